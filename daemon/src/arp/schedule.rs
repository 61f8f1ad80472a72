//! One interface's ARP work as a pure state machine: which address to ask
//! about next (probes before sweeps, at a bounded rate), which answers
//! belong to which request, and which requests are done. The worker thread
//! feeds it the clock and the frames; tests feed it numbers.

use std::collections::{HashSet, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use super::{Ask, Finished};
use crate::addr::MacAddr;

/// One probe or sweep in progress.
#[derive(Debug)]
struct Job {
    token: u64,
    probe: bool,
    started: Instant,
    /// Not asked yet, in order.
    queue: VecDeque<Ipv4Addr>,
    /// Asked: an answer from one of these counts.
    asked: HashSet<Ipv4Addr>,
    last_sent: Option<Instant>,
    answers: Vec<(Ipv4Addr, MacAddr)>,
}

impl Job {
    fn done(&self, now: Instant, timeout: Duration) -> bool {
        if !self.queue.is_empty() {
            return false;
        }
        // A probe needs one answer; a sweep waits for the stragglers.
        (self.probe && !self.answers.is_empty())
            || self.last_sent.is_none_or(|t| now >= t + timeout)
    }
}

/// The requests of one interface.
#[derive(Debug)]
pub struct Schedule {
    jobs: Vec<Job>,
    rate: f64,
    burst: f64,
    tokens: f64,
    refilled: Instant,
    timeout: Duration,
}

impl Schedule {
    /// `rate` requests per second (bursts of up to 20 ms' worth), each
    /// waited on for `timeout`.
    pub fn new(rate: u32, timeout: Duration, now: Instant) -> Self {
        let rate = f64::from(rate.max(1));
        let burst = (rate / 50.0).max(1.0);
        Schedule {
            jobs: Vec::new(),
            rate,
            burst,
            tokens: burst,
            refilled: now,
            timeout,
        }
    }

    /// Nothing to send or wait for.
    pub fn is_idle(&self) -> bool {
        self.jobs.is_empty()
    }

    /// Starts `ask` under `token`.
    pub fn add(&mut self, token: u64, ask: Ask, now: Instant) {
        let (probe, queue) = match ask {
            Ask::Probe(ip) => (true, VecDeque::from([ip])),
            Ask::Sweep(ips) => (false, ips.into()),
        };
        let job = Job {
            token,
            probe,
            started: now,
            queue,
            asked: HashSet::new(),
            last_sent: None,
            answers: Vec::new(),
        };
        // Probes go first: a client waits on each.
        if probe {
            let at = self
                .jobs
                .iter()
                .position(|j| !j.probe)
                .unwrap_or(self.jobs.len());
            self.jobs.insert(at, job);
        } else {
            self.jobs.push(job);
        }
    }

    /// The next address to ask about now, if the rate allows one.
    pub fn next_send(&mut self, now: Instant) -> Option<Ipv4Addr> {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        self.refilled = now;
        if self.tokens < 1.0 {
            return None;
        }
        let job = self.jobs.iter_mut().find(|j| !j.queue.is_empty())?;
        let ip = job.queue.pop_front()?;
        job.asked.insert(ip);
        job.last_sent = Some(now);
        self.tokens -= 1.0;
        Some(ip)
    }

    /// `mac` said it holds `ip`.
    pub fn heard(&mut self, ip: Ipv4Addr, mac: MacAddr) {
        for j in &mut self.jobs {
            if j.asked.contains(&ip) && !j.answers.contains(&(ip, mac)) {
                j.answers.push((ip, mac));
            }
        }
    }

    /// The jobs that are done, taken out.
    pub fn finished(&mut self, now: Instant) -> Vec<Finished> {
        let timeout = self.timeout;
        let (done, open): (Vec<Job>, Vec<Job>) = std::mem::take(&mut self.jobs)
            .into_iter()
            .partition(|j| j.done(now, timeout));
        self.jobs = open;
        done.into_iter()
            .map(|j| Finished {
                token: j.token,
                asked: j.asked.len() as u64,
                answers: j.answers,
                elapsed: now.saturating_duration_since(j.started),
            })
            .collect()
    }

    /// How long the worker may block before something is due: until the
    /// next token when requests wait, else until the nearest timeout.
    pub fn idle_for(&self, now: Instant) -> Duration {
        if self.jobs.iter().any(|j| !j.queue.is_empty()) {
            let missing = (1.0 - self.tokens).max(0.0);
            return Duration::from_secs_f64(missing / self.rate);
        }
        self.jobs
            .iter()
            .filter_map(|j| j.last_sent)
            .map(|t| (t + self.timeout).saturating_duration_since(now))
            .min()
            .unwrap_or(Duration::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(192, 0, 2, last)
    }

    const MAC: MacAddr = MacAddr([2, 0, 0, 0, 0, 9]);
    const TIMEOUT: Duration = Duration::from_millis(200);

    #[test]
    fn the_rate_bounds_requests_and_probes_jump_the_queue() {
        let t0 = Instant::now();
        // 100/s: bursts of 2, then one every 10 ms.
        let mut s = Schedule::new(100, TIMEOUT, t0);
        s.add(1, Ask::Sweep((10..20).map(ip).collect()), t0);
        assert_eq!(s.next_send(t0), Some(ip(10)));
        s.add(2, Ask::Probe(ip(50)), t0);
        assert_eq!(s.next_send(t0), Some(ip(50)), "the probe first");
        assert_eq!(s.next_send(t0), None, "the burst is spent");
        let t1 = t0 + Duration::from_millis(10);
        assert_eq!(s.next_send(t1), Some(ip(11)));
        assert_eq!(s.next_send(t1), None);
        // A long pause refills at most one burst.
        let t2 = t1 + Duration::from_secs(5);
        assert_eq!(s.next_send(t2), Some(ip(12)));
        assert_eq!(s.next_send(t2), Some(ip(13)));
        assert_eq!(s.next_send(t2), None);
    }

    #[test]
    fn an_answered_probe_finishes_at_once_a_silent_one_after_the_timeout() {
        let t0 = Instant::now();
        let mut s = Schedule::new(1000, TIMEOUT, t0);
        s.add(1, Ask::Probe(ip(5)), t0);
        s.add(2, Ask::Probe(ip(6)), t0);
        assert_eq!(s.next_send(t0), Some(ip(5)));
        assert_eq!(s.next_send(t0), Some(ip(6)));
        s.heard(ip(5), MAC);
        s.heard(ip(99), MAC); // not asked about: ignored
        let done = s.finished(t0);
        assert_eq!(done.len(), 1);
        assert_eq!(
            (done[0].token, done[0].answers.clone()),
            (1, vec![(ip(5), MAC)])
        );
        assert!(s.finished(t0 + Duration::from_millis(199)).is_empty());
        let done = s.finished(t0 + TIMEOUT);
        assert_eq!((done[0].token, done[0].answers.len()), (2, 0));
        assert!(s.is_idle());
    }

    #[test]
    fn a_sweep_collects_every_answer_until_its_last_request_timed_out() {
        let t0 = Instant::now();
        let mut s = Schedule::new(1000, TIMEOUT, t0);
        s.add(7, Ask::Sweep(vec![ip(1), ip(2), ip(3)]), t0);
        let mut t = t0;
        while let Some(a) = s.next_send(t) {
            if a == ip(2) {
                s.heard(a, MAC);
                s.heard(a, MAC);
            }
            t += Duration::from_millis(1);
        }
        assert!(s.finished(t).is_empty(), "stragglers may still answer");
        let done = s.finished(t + TIMEOUT);
        assert_eq!(done[0].asked, 3);
        assert_eq!(done[0].answers, vec![(ip(2), MAC)], "each pair once");
    }
}
