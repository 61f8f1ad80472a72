//! Network namespaces: the lab every test builds and removes again.
//!
//! Topology: one server namespace holding bridge `br0` (192.0.2.1/24 by
//! default, or the [`LabNet`] given to [`Lab::with_net`]), and one namespace
//! per client whose `eth0` is a veth whose peer (`p<k>`) is a
//! port of `br0`. Everything is created with `ip -n <ns> ...`, so nothing is
//! ever created in, or changed on, the root namespace. Names are unique per
//! process and lab (`bt<pid>x<n>s`, `bt<pid>x<n>c<k>`); deleting a namespace
//! deletes its interfaces (and with them their veth peers).

use std::fs;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Command;
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

use crate::process::{ip, run_output};

/// Prefix of every namespace this test bed creates.
pub const NS_PREFIX: &str = "bt";
/// The server's address on `br0` inside the server namespace.
pub const SERVER_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The lab subnet (a documentation range).
pub const LAB_CIDR: &str = "192.0.2.0/24";
/// The bridge inside the server namespace.
pub const BRIDGE: &str = "br0";
/// The client's interface name inside each client namespace.
pub const CLIENT_IFACE: &str = "eth0";

/// The lab's network: the server's address on `br0` and the prefix length.
/// Only ever configured inside the lab's namespaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabNet {
    /// The server's address on `br0`.
    pub server_ip: Ipv4Addr,
    /// Prefix length of the lab subnet.
    pub prefix: u8,
}

impl LabNet {
    /// The default lab: 192.0.2.1/24 (a documentation range), what
    /// [`Lab::new`] builds and [`crate::ServerConfig::lab`] serves.
    pub const DOC: LabNet = LabNet {
        server_ip: SERVER_IP,
        prefix: 24,
    };
    /// A /16 for load benchmarks: 198.18.0.1/16, inside the RFC 2544
    /// benchmarking range 198.18.0.0/15.
    pub const BENCH16: LabNet = LabNet {
        server_ip: Ipv4Addr::new(198, 18, 0, 1),
        prefix: 16,
    };

    /// `a.b.c.d/len` for the server's address.
    pub fn server_cidr(&self) -> String {
        format!("{}/{}", self.server_ip, self.prefix)
    }

    /// The subnet in CIDR form, e.g. `198.18.0.0/16`.
    pub fn subnet_cidr(&self) -> String {
        format!("{}/{}", self.network(), self.prefix)
    }

    /// The subnet's network address.
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.server_ip) & self.mask_bits())
    }

    /// The netmask, e.g. 255.255.0.0.
    pub fn netmask(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.mask_bits())
    }

    /// The address `offset` after the network address (no bounds check
    /// beyond wrapping within the subnet).
    pub fn host(&self, offset: u32) -> Ipv4Addr {
        let host_bits = !self.mask_bits();
        Ipv4Addr::from(u32::from(self.network()) | (offset & host_bits))
    }

    fn mask_bits(&self) -> u32 {
        match self.prefix {
            0 => 0,
            p => u32::MAX << (32 - u32::from(p.min(32))),
        }
    }
}

static LAB_COUNTER: AtomicU32 = AtomicU32::new(0);
static MAC_COUNTER: AtomicU32 = AtomicU32::new(0);
static SWEEP: Once = Once::new();

/// A fresh, process-unique name stem: `bt<pid>x<n>`.
pub fn unique_stem() -> String {
    let n = LAB_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{NS_PREFIX}{}x{n}", std::process::id())
}

/// A random locally administered unicast MAC (`02:xx:xx:xx:xx:xx`).
pub fn random_mac() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let n = u128::from(MAC_COUNTER.fetch_add(1, Ordering::Relaxed));
    let mut x = nanos ^ (u128::from(std::process::id()) << 64) ^ (n << 32) ^ n;
    // splitmix-style scrambling so close seeds give far-apart MACs.
    x = (x ^ (x >> 31)).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
    x ^= x >> 29;
    let b = x.to_le_bytes();
    format!(
        "02:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        b[0], b[1], b[2], b[3], b[4]
    )
}

/// A network namespace that is deleted on drop.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates namespace `name` and brings its loopback up.
    pub fn create(name: &str) -> Result<Netns> {
        ip(&["netns", "add", name]).with_context(|| format!("cannot create netns {name}"))?;
        let ns = Netns {
            name: name.to_string(),
        };
        ns.ip(&["link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `ip -n <ns> ARGS...`.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        let mut full = vec!["-n", self.name.as_str()];
        full.extend_from_slice(args);
        ip(&full)
    }

    /// A command that runs `program` inside this namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        netns_command(&self.name, program)
    }
}

/// `ip netns exec <ns> <program>`: `ip` execs in place, so the child's PID
/// is the program's PID.
pub fn netns_command(ns: &str, program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut c = Command::new("ip");
    c.arg("netns").arg("exec").arg(ns).arg(program);
    c
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Err(e) = ip(&["netns", "del", &self.name]) {
            eprintln!("berth-tests: could not delete netns {}: {e:#}", self.name);
        }
    }
}

/// Removes namespaces left behind by earlier test processes that died
/// without cleaning up (their `bt<pid>x` PID no longer exists). Processes
/// still inside such a namespace were started by that test bed; they are
/// ended by PID before the namespace is deleted.
pub fn sweep_stale() {
    SWEEP.call_once(|| {
        let Ok(entries) = fs::read_dir("/run/netns") else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(owner) = stale_owner(&name) else {
                continue;
            };
            if Path::new(&format!("/proc/{owner}")).exists() {
                continue;
            }
            eprintln!("berth-tests: removing stale netns {name} (owner pid {owner} is gone)");
            if let Ok(out) = run_output(
                Command::new("ip").args(["netns", "pids", &name]),
                Duration::from_secs(5),
            ) {
                for pid in String::from_utf8_lossy(&out.stdout)
                    .split_whitespace()
                    .filter_map(|p| p.parse::<i32>().ok())
                {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
            let _ = ip(&["netns", "del", &name]);
        }
    });
}

/// `bt<pid>x<...>` -> pid.
fn stale_owner(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(NS_PREFIX)?;
    let (pid, _) = rest.split_once('x')?;
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    pid.parse().ok()
}

/// The server namespace with its bridge; clients are added with [`Lab::add_client`].
#[derive(Debug)]
pub struct Lab {
    stem: String,
    server: Netns,
    ports: AtomicU32,
    net: LabNet,
}

impl Lab {
    /// Creates the server namespace with `br0` at 192.0.2.1/24.
    pub fn new() -> Result<Lab> {
        Self::with_net(LabNet::DOC)
    }

    /// Creates the server namespace with `br0` at `net`'s server address.
    pub fn with_net(net: LabNet) -> Result<Lab> {
        sweep_stale();
        let stem = unique_stem();
        let server = Netns::create(&format!("{stem}s"))?;
        server.ip(&[
            "link",
            "add",
            BRIDGE,
            "type",
            "bridge",
            "forward_delay",
            "0",
            "stp_state",
            "0",
        ])?;
        server.ip(&["link", "set", BRIDGE, "up"])?;
        server.ip(&["addr", "add", &net.server_cidr(), "dev", BRIDGE])?;
        Ok(Lab {
            stem,
            server,
            ports: AtomicU32::new(0),
            net,
        })
    }

    /// The network `br0` is on.
    pub fn net(&self) -> LabNet {
        self.net
    }

    /// The server namespace's name (where berthd runs).
    pub fn server_ns(&self) -> &str {
        self.server.name()
    }

    pub fn server(&self) -> &Netns {
        &self.server
    }

    /// Adds a client namespace whose `eth0` is bridged to `br0`.
    /// `mac`: a fixed MAC, or `None` for a random one.
    pub fn add_client(&self, mac: Option<&str>) -> Result<ClientNs> {
        let k = self.ports.fetch_add(1, Ordering::Relaxed) + 1;
        let port = format!("p{k}");
        let client = self.link(k, &port, mac)?;
        self.server.ip(&["link", "set", &port, "master", BRIDGE])?;
        self.server.ip(&["link", "set", &port, "up"])?;
        Ok(client)
    }

    /// Adds a second link: a client namespace whose `eth0` is a veth peer of
    /// `server_iface` in the server namespace (not bridged), which gets
    /// `server_cidr` (e.g. "198.51.100.1/24"). For multi-interface tests.
    pub fn add_link(
        &self,
        server_iface: &str,
        server_cidr: &str,
        mac: Option<&str>,
    ) -> Result<ClientNs> {
        let k = self.ports.fetch_add(1, Ordering::Relaxed) + 1;
        let client = self.link(k, server_iface, mac)?;
        self.server
            .ip(&["addr", "add", server_cidr, "dev", server_iface])?;
        self.server.ip(&["link", "set", server_iface, "up"])?;
        Ok(client)
    }

    /// Client namespace number `k` whose `eth0` (up, with `mac` or a random
    /// one) is the veth peer of `port` in the server namespace.
    fn link(&self, k: u32, port: &str, mac: Option<&str>) -> Result<ClientNs> {
        let ns = Netns::create(&format!("{}c{k}", self.stem))?;
        self.server.ip(&[
            "link",
            "add",
            port,
            "type",
            "veth",
            "peer",
            "name",
            CLIENT_IFACE,
            "netns",
            ns.name(),
        ])?;
        let mac = mac.map_or_else(random_mac, str::to_string);
        ns.ip(&["link", "set", CLIENT_IFACE, "address", &mac])?;
        ns.ip(&["link", "set", CLIENT_IFACE, "up"])?;
        Ok(ClientNs {
            ns,
            mac,
            port: port.to_string(),
        })
    }
}

/// A client namespace with `eth0` on the lab bridge.
#[derive(Debug)]
pub struct ClientNs {
    ns: Netns,
    mac: String,
    port: String,
}

impl ClientNs {
    pub fn ns(&self) -> &Netns {
        &self.ns
    }

    pub fn name(&self) -> &str {
        self.ns.name()
    }

    pub fn iface(&self) -> &str {
        CLIENT_IFACE
    }

    pub fn mac(&self) -> &str {
        &self.mac
    }

    /// The bridge port (in the server namespace) this client hangs on.
    pub fn port(&self) -> &str {
        &self.port
    }

    /// IPv4 addresses (`a.b.c.d/len`) currently on `eth0`.
    pub fn ipv4_addrs(&self) -> Result<Vec<String>> {
        let out = self
            .ns
            .ip(&["-4", "-o", "addr", "show", "dev", CLIENT_IFACE])?;
        let mut v = Vec::new();
        for line in out.lines() {
            let mut it = line.split_whitespace();
            while let Some(w) = it.next() {
                if w == "inet" {
                    if let Some(a) = it.next() {
                        v.push(a.to_string());
                    }
                    break;
                }
            }
        }
        Ok(v)
    }

    /// Puts a static address on `eth0` (e.g. for perfdhcp, which acts as a relay).
    pub fn add_addr(&self, cidr: &str) -> Result<()> {
        if !cidr.contains('/') {
            bail!("add_addr wants a.b.c.d/len, got {cidr}");
        }
        self.ns.ip(&["addr", "add", cidr, "dev", CLIENT_IFACE])?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_names() {
        assert_eq!(stale_owner("bt123x0s"), Some(123));
        assert_eq!(stale_owner("bt123x4c2"), Some(123));
        assert_eq!(stale_owner("btx4c2"), None);
        assert_eq!(stale_owner("bdemo-srv"), None);
        assert_eq!(stale_owner("other"), None);
    }

    #[test]
    fn lab_nets() {
        assert_eq!(LabNet::DOC.server_cidr(), "192.0.2.1/24");
        assert_eq!(LabNet::DOC.subnet_cidr(), LAB_CIDR);
        let b = LabNet::BENCH16;
        assert_eq!(b.subnet_cidr(), "198.18.0.0/16");
        assert_eq!(b.netmask(), Ipv4Addr::new(255, 255, 0, 0));
        assert_eq!(b.host(256 + 59_999), Ipv4Addr::new(198, 18, 235, 95));
        assert_eq!(b.host(2), Ipv4Addr::new(198, 18, 0, 2));
    }

    #[test]
    fn macs_are_local_unicast_and_differ() {
        let a = random_mac();
        let b = random_mac();
        assert_ne!(a, b);
        assert!(a.starts_with("02:"));
        assert_eq!(a.len(), 17);
    }
}
