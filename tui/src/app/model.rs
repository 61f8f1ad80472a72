//! The TUI's state ([`Model`]), its inputs ([`Msg`]) and its outputs
//! ([`Command`]). Everything here is plain data: the runtime turns terminal
//! input and worker reports into [`Msg`]s, [`super::update::update`] changes
//! the model, and the view draws it.

use std::collections::VecDeque;
use std::net::Ipv4Addr;
use std::time::Duration;

use berth_proto::{
    ApiError, Event, ExplainRequest, Explanation, HostInfo, LeaseInfo, PoolInfo, PromoteRequest,
    QuarantineInfo, Status, Target, UnixTime,
};
use crossterm::event::KeyEvent;

use super::lease_set::LeaseSet;

/// How many feed entries the arrivals view keeps; older ones fall off.
pub const FEED_CAP: usize = 1000;

/// Everything the TUI can be told.
#[derive(Debug, Clone)]
pub enum Msg {
    /// A key press from the terminal.
    Key(KeyEvent),
    /// The worker is trying to reach the daemon.
    Connecting {
        /// 1 for the first try after a success or at start.
        attempt: u32,
    },
    /// The worker reached the daemon and checked the API version. Data stays
    /// marked stale until the next [`Msg::Snapshot`].
    Connected,
    /// The connection failed or dropped; the worker tries again in `retry_in`.
    Disconnected {
        /// Why, in words for the operator.
        error: String,
        /// The backoff before the next attempt.
        retry_in: Duration,
        /// When it was noticed (UTC seconds), to show how old the data is.
        at: UnixTime,
    },
    /// Fresh data; `None` parts could not be read (an error was reported
    /// separately) and keep their previous value.
    Snapshot(Box<Snapshot>),
    /// New daemon events.
    Events {
        /// Oldest first.
        events: Vec<Event>,
        /// The worker fell behind and events were lost.
        missed: bool,
        /// The daemon restarted since the last batch.
        restarted: bool,
    },
    /// A page of a full load of the leases, in address order.
    LeasesPage {
        /// The load's first page: a new load starts.
        first: bool,
        /// This page's leases.
        items: Vec<LeaseInfo>,
        /// How many the whole list holds.
        total: u64,
        /// The load's last page.
        done: bool,
    },
    /// After events: the daemon's leases with addresses in `from..=to`
    /// are exactly `items`.
    LeasesChanged {
        /// First address of the range.
        from: Ipv4Addr,
        /// Last address of the range.
        to: Ipv4Addr,
        /// The leases there now.
        items: Vec<LeaseInfo>,
    },
    /// After an event about a client (promote, host change): its leases
    /// are exactly `items`.
    LeasesOfMac {
        /// Lowercase colon form.
        mac: String,
        /// The leases it has now.
        items: Vec<LeaseInfo>,
    },
    /// A read call failed with an API error (e.g. `leases` refused).
    ReadFailed {
        /// What was being read ("leases", ...).
        what: String,
        /// The daemon's answer.
        error: ApiError,
    },
    /// An action ([`Command::Promote`], ...) finished: a message to show.
    ActionDone {
        /// The action, e.g. "promote aa:bb:cc:dd:ee:ff".
        what: String,
        /// What it did, or why not.
        result: Result<String, ApiError>,
    },
    /// The daemon's `explain` for a client ([`Command::Explain`]).
    Explained {
        /// The client asked about.
        mac: String,
        /// The answer (boxed: it is large next to the other messages).
        result: Box<Result<Explanation, ApiError>>,
    },
    /// A client's events from the daemon's buffer ([`Command::History`]).
    History {
        /// The client asked about.
        mac: String,
        /// Its events, oldest first.
        result: Result<Vec<Event>, ApiError>,
    },
}

/// A full reload of the daemon's state, as read by the worker.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// `status`.
    pub status: Option<Status>,
    /// `leases` with no filter, all at once (the worker sends them as
    /// [`Msg::LeasesPage`]s instead).
    pub leases: Option<Vec<LeaseInfo>>,
    /// `hosts`.
    pub hosts: Option<Vec<HostInfo>>,
    /// `pools`.
    pub pools: Option<Vec<PoolInfo>>,
    /// `quarantine`, every page.
    pub quarantine: Option<Vec<QuarantineInfo>>,
}

/// What [`super::update::update`] asks the runtime to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Leave the TUI.
    Quit,
    /// Reload everything now.
    Refresh,
    /// Turn a dynamic client into a static host.
    Promote(PromoteRequest),
    /// End a lease.
    Release(Target),
    /// Ignore a MAC until unblocked.
    Block {
        /// Lowercase colon form.
        mac: String,
    },
    /// Ask the daemon what it would do for a client.
    Explain(ExplainRequest),
    /// Fetch a client's events.
    History {
        /// Lowercase colon form.
        mac: String,
    },
    /// ARP-sweep one range now (`START-END`).
    Scan {
        /// The range as `scan` takes it.
        range: String,
    },
    /// End an address's quarantine.
    ClearQuarantine(Ipv4Addr),
}

/// The screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The live event feed.
    Arrivals,
    /// Every lease with its countdown.
    Leases,
    /// Static hosts.
    Hosts,
    /// Dynamic range usage, sweeps and squatters.
    Pools,
    /// Quarantined addresses with the time left.
    Quarantine,
    /// The last hook and webhook outcomes.
    Hooks,
}

impl View {
    /// All views in tab order.
    pub const ALL: [View; 6] = [
        View::Arrivals,
        View::Leases,
        View::Hosts,
        View::Pools,
        View::Quarantine,
        View::Hooks,
    ];

    /// The tab title.
    pub fn title(self) -> &'static str {
        match self {
            View::Arrivals => "Arrivals",
            View::Leases => "Leases",
            View::Hosts => "Hosts",
            View::Pools => "Pools",
            View::Quarantine => "Quarantine",
            View::Hooks => "Hooks",
        }
    }

    /// Position in [`View::ALL`].
    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

/// Where the connection to the daemon stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conn {
    /// Trying to reach the daemon; nothing has failed yet.
    Connecting {
        /// 1 for the first try.
        attempt: u32,
    },
    /// Connected; data is live once a snapshot came in.
    Connected,
    /// The last attempt failed or the connection dropped.
    Reconnecting {
        /// The last failure.
        error: String,
        /// When the next attempt starts (UTC seconds), for a countdown.
        retry_at: UnixTime,
        /// When the connection was lost.
        since: UnixTime,
    },
}

/// Columns the leases view can be sorted by, in the order `s` cycles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseSort {
    /// By address (the daemon's order).
    Ip,
    /// By MAC.
    Mac,
    /// By hostname, case-insensitive; none first.
    Hostname,
    /// By kind name.
    Kind,
    /// By state name.
    State,
    /// Time left, soonest first.
    Ends,
}

impl LeaseSort {
    /// The next column for `s`.
    pub fn next(self) -> LeaseSort {
        match self {
            LeaseSort::Ip => LeaseSort::Mac,
            LeaseSort::Mac => LeaseSort::Hostname,
            LeaseSort::Hostname => LeaseSort::Kind,
            LeaseSort::Kind => LeaseSort::State,
            LeaseSort::State => LeaseSort::Ends,
            LeaseSort::Ends => LeaseSort::Ip,
        }
    }

    /// Short name for the title bar.
    pub fn name(self) -> &'static str {
        match self {
            LeaseSort::Ip => "ip",
            LeaseSort::Mac => "mac",
            LeaseSort::Hostname => "hostname",
            LeaseSort::Kind => "kind",
            LeaseSort::State => "state",
            LeaseSort::Ends => "time left",
        }
    }
}

/// One line of the arrivals feed.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedItem {
    /// Local, strictly increasing id: the selection key (daemon seqs restart).
    pub id: u64,
    /// What it shows.
    pub entry: FeedEntry,
}

/// What a feed line shows.
#[derive(Debug, Clone, PartialEq)]
pub enum FeedEntry {
    /// A daemon event.
    Event(Event),
    /// Something the TUI itself noticed (restart, lost events).
    Note {
        /// When, if known.
        at: Option<UnixTime>,
        /// What happened.
        text: String,
    },
}

/// A modal window over the current view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    /// The key list.
    Help,
    /// The promote form, prefilled from the lease.
    Promote(PromoteForm),
    /// "Are you sure?" before a release or a block.
    Confirm(Confirm),
    /// What the daemon would do for a client (`e`).
    Explain(Panel<Explanation>),
    /// A client's events, newest first (`Enter`).
    History(Panel<Vec<Event>>),
}

/// A read-only window about one client, filled when the worker answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panel<T> {
    /// The client.
    pub mac: String,
    /// `None` while loading; the daemon's error as text.
    pub data: Option<Result<T, String>>,
    /// Lines scrolled down.
    pub scroll: usize,
}

/// The promote form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromoteForm {
    /// The client being promoted.
    pub mac: String,
    /// The dynamic address the client has now.
    pub current_ip: Ipv4Addr,
    /// Editable: the static address.
    pub ip: String,
    /// Editable: the host name (empty lets the daemon choose).
    pub hostname: String,
    /// The field keys go to.
    pub focus: PromoteField,
    /// Why Enter was refused (e.g. the address does not parse).
    pub error: Option<String>,
}

/// Which field of the promote form has the cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PromoteField {
    /// The static address.
    Ip,
    /// The host name.
    Hostname,
}

/// A pending destructive action awaiting Enter or Esc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// The question shown.
    pub question: String,
    /// What Enter sends.
    pub command: Command,
}

/// How a status-line message should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Something worked or is under way.
    Info,
    /// Something failed: shown emphasised.
    Error,
}

/// A message in the status area.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// How it looks.
    pub level: Level,
    /// What it says.
    pub text: String,
}

/// A full load of the leases, page by page.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LeaseLoad {
    /// Leases received so far.
    pub received: u64,
    /// How many the daemon said there are.
    pub total: u64,
    /// A reload's pages, shown only once complete (the first load shows
    /// each page as it arrives instead).
    pub staged: Option<Vec<LeaseInfo>>,
}

/// The whole TUI state.
#[derive(Debug, Clone)]
pub struct Model {
    /// The socket, as shown in the status bar.
    pub socket: String,
    /// False under NO_COLOR: emphasis by bold/reverse only.
    pub color: bool,
    /// The view on screen.
    pub view: View,
    /// The connection as the worker last reported it.
    pub conn: Conn,
    /// Data is from an earlier connection and may be out of date.
    pub stale: bool,
    /// A snapshot has arrived at least once (else views say "loading").
    pub loaded: bool,
    /// The daemon's last status.
    pub status: Option<Status>,
    /// Leases by address, kept current from the event stream.
    pub leases: LeaseSet,
    /// A full load of the leases under way.
    pub lease_load: Option<LeaseLoad>,
    /// Static hosts.
    pub hosts: Vec<HostInfo>,
    /// Range usage.
    pub pools: Vec<PoolInfo>,
    /// The arrivals feed, newest first, at most [`FEED_CAP`].
    pub feed: VecDeque<FeedItem>,
    /// The id the next feed item gets.
    pub next_feed_id: u64,
    /// Selected rows by key, so a refresh or a new sort keeps the cursor on
    /// the same thing. `None` means the first row (for the feed: follow the
    /// newest).
    pub sel_feed: Option<u64>,
    /// By address and MAC: when a promoted client moves to its static
    /// address the cursor follows it by MAC.
    pub sel_lease: Option<(Ipv4Addr, String)>,
    /// By host name.
    pub sel_host: Option<String>,
    /// By range start.
    pub sel_pool: Option<Ipv4Addr>,
    /// Quarantined addresses, by address.
    pub quarantine: Vec<QuarantineInfo>,
    /// By address.
    pub sel_quarantine: Option<Ipv4Addr>,
    /// By feed id, like the arrivals feed (`None`: the newest).
    pub sel_hook: Option<u64>,
    /// Lowercase column titles the tables leave out (settings).
    pub hidden_columns: Vec<String>,
    /// The leases view's sort column.
    pub sort: LeaseSort,
    /// Sort descending.
    pub sort_desc: bool,
    /// Case-insensitive substring that rows of every list view must contain.
    pub filter: String,
    /// `/` was pressed and keys go to the filter.
    pub filter_editing: bool,
    /// The modal window, if any.
    pub dialog: Option<Dialog>,
    /// The last message for the status area.
    pub notice: Option<Notice>,
}

impl Model {
    /// A fresh model before anything is known.
    pub fn new(socket: impl Into<String>, color: bool) -> Self {
        Model {
            socket: socket.into(),
            color,
            view: View::Arrivals,
            conn: Conn::Connecting { attempt: 1 },
            stale: false,
            loaded: false,
            status: None,
            leases: LeaseSet::default(),
            lease_load: None,
            hosts: Vec::new(),
            pools: Vec::new(),
            feed: VecDeque::new(),
            next_feed_id: 1,
            sel_feed: None,
            sel_lease: None,
            sel_host: None,
            sel_pool: None,
            quarantine: Vec::new(),
            sel_quarantine: None,
            sel_hook: None,
            hidden_columns: Vec::new(),
            sort: LeaseSort::Ip,
            sort_desc: false,
            filter: String::new(),
            filter_editing: false,
            dialog: None,
            notice: None,
        }
    }

    /// Whether the data on screen reflects the daemon right now.
    pub fn live(&self) -> bool {
        self.conn == Conn::Connected && self.loaded && !self.stale
    }
}
