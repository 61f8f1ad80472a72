//! Pure drawing: `view(&Model, &mut Frame, now, tz)`. The clock and the time
//! zone come in as arguments so countdowns and local times are testable.

use berth_proto::{Event, EventKind, LeaseInfo, LeaseKind, LeaseState};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Padding, Paragraph, Wrap};

use super::fmt::{self, Col};
use super::model::{Conn, Dialog, FeedEntry, Level, Model, PromoteField, PromoteForm, View};
use super::rows;

/// Styles, honouring NO_COLOR (emphasis by bold and reverse only) and
/// greying everything out while the data is stale.
#[derive(Debug, Clone, Copy)]
struct Theme {
    color: bool,
    stale: bool,
}

impl Theme {
    fn new(m: &Model) -> Theme {
        Theme {
            color: m.color,
            stale: m.stale,
        }
    }

    /// Applies the stale look on top of `s`.
    fn data(self, s: Style) -> Style {
        if !self.stale {
            s
        } else if self.color {
            s.fg(Color::DarkGray)
        } else {
            s.add_modifier(Modifier::DIM)
        }
    }

    fn plain(self) -> Style {
        self.data(Style::default())
    }

    fn fg(self, c: Color) -> Style {
        if self.color {
            self.data(Style::default().fg(c))
        } else {
            self.plain()
        }
    }

    fn header(self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }

    /// A client nobody knows yet: what the operator is watching for.
    fn new_client(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        self.data(if self.color { s.fg(Color::Yellow) } else { s })
    }

    fn failure(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        self.data(if self.color { s.fg(Color::Red) } else { s })
    }

    fn muted(self) -> Style {
        self.fg(Color::DarkGray)
    }

    fn kind(self, k: LeaseKind) -> Style {
        match k {
            LeaseKind::Static => self.fg(Color::Green),
            LeaseKind::Dynamic => self.plain(),
            LeaseKind::Moving => {
                let s = Style::default().add_modifier(Modifier::BOLD);
                self.data(if self.color { s.fg(Color::Cyan) } else { s })
            }
            LeaseKind::Quarantined => self.fg(Color::Magenta),
        }
    }

    fn error(self) -> Style {
        let s = Style::default().add_modifier(Modifier::BOLD);
        if self.color { s.fg(Color::Red) } else { s }
    }

    fn bar(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }

    fn alarm(self) -> Style {
        if self.color {
            Style::default()
                .fg(Color::White)
                .bg(Color::Red)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::BOLD)
        }
    }

    fn selected(self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED)
    }
}

/// Draws the whole screen.
pub fn view(m: &Model, f: &mut Frame, now: Timestamp, tz: &TimeZone) {
    let area = f.area();
    let theme = Theme::new(m);
    let msg = message_line(m, theme);
    // A long error (a connect error says what to do) may take up to three
    // lines rather than be cut off.
    let msg_w: u16 = msg.spans.iter().map(|s| fmt::width(&s.content)).sum();
    let msg_h = msg_w.div_ceil(area.width.max(1)).clamp(1, 3);
    let [top, body, status, message] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
        Constraint::Length(msg_h),
    ])
    .areas(area);
    f.render_widget(Paragraph::new(tabs_line(m, top.width, now, tz)), top);
    draw_body(m, f, body, theme, now, tz);
    f.render_widget(
        Paragraph::new(status_line(m, status.width, theme, now)).style(theme.bar()),
        status,
    );
    f.render_widget(Paragraph::new(msg).wrap(Wrap { trim: false }), message);
    match &m.dialog {
        Some(Dialog::Help) => draw_help(f, area),
        Some(Dialog::Promote(form)) => draw_promote(f, area, form, theme),
        Some(Dialog::Confirm(c)) => draw_confirm(f, area, &c.question),
        None => {}
    }
}

/// The view tabs on the left, the local clock on the right.
fn tabs_line<'a>(m: &Model, width: u16, now: Timestamp, tz: &TimeZone) -> Line<'a> {
    let mut spans = vec![Span::styled(
        " berth ",
        Style::default().add_modifier(Modifier::BOLD),
    )];
    for v in View::ALL {
        let label = format!(" {} {} ", v.index() + 1, v.title());
        let style = if v == m.view {
            Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        } else {
            Style::default()
        };
        spans.push(Span::styled(label, style));
    }
    let used: u16 = spans.iter().map(|s| fmt::width(&s.content)).sum();
    let clock = format!(
        "{} {} ",
        now.to_zoned(tz.clone()).strftime("%H:%M:%S"),
        fmt::tz_abbrev(tz, now)
    );
    let cw = fmt::width(&clock);
    if used + cw < width {
        spans.push(Span::raw(" ".repeat(usize::from(width - used - cw))));
        spans.push(Span::raw(clock));
    } else if used > width {
        // Too narrow for the name too: the tabs matter more.
        spans.remove(0);
    }
    Line::from(spans)
}

fn draw_body(m: &Model, f: &mut Frame, area: Rect, t: Theme, now: Timestamp, tz: &TimeZone) {
    let count = rows::row_count(m, m.view);
    let total = match m.view {
        View::Arrivals => m.feed.len(),
        View::Leases => m.leases.len(),
        View::Hosts => m.hosts.len(),
        View::Pools => m.pools.len(),
    };
    let mut title = format!(" {} ", m.view.title());
    if count == total {
        title.push_str(&format!("{count} "));
    } else {
        title.push_str(&format!("{count} of {total} "));
    }
    if m.view == View::Leases {
        let arrow = if m.sort_desc { "▼" } else { "▲" };
        title.push_str(&format!("· sort {}{arrow} ", m.sort.name()));
    }
    if !m.filter.is_empty() {
        title.push_str(&format!("· filter \"{}\" ", m.filter));
    }
    let mut block = Block::default()
        .borders(Borders::TOP)
        .title_top(Line::from(Span::styled(title, t.header())));
    if m.stale {
        let since = match m.conn {
            Conn::Reconnecting { since, .. } => format!(" since {}", fmt::when(since, now, tz)),
            _ => String::new(),
        };
        block = block.title_top(
            Line::from(Span::styled(format!(" STALE: not live{since} "), t.alarm()))
                .right_aligned(),
        );
    }
    let inner = block.inner(area);
    f.render_widget(block, area);
    if !m.loaded && count == 0 {
        // The error itself is in the message line below.
        let text = format!("no data yet: waiting for berthd at {}…", m.socket);
        f.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .style(t.muted()),
            inner,
        );
        return;
    }
    let lines = match m.view {
        View::Arrivals => arrivals_lines(m, inner, t, now, tz),
        View::Leases => leases_lines(m, inner, t, now, tz),
        View::Hosts => hosts_lines(m, inner, t, now, tz),
        View::Pools => pools_lines(m, inner, t),
    };
    f.render_widget(Paragraph::new(lines), inner);
}

/// Header, then the visible window of `rows` around the selection, the
/// selected one reversed; or `empty` when there are none.
fn table<'a>(
    header: Line<'a>,
    rows: Vec<Line<'a>>,
    selected: usize,
    height: u16,
    width: u16,
    empty: String,
    t: Theme,
) -> Vec<Line<'a>> {
    if rows.is_empty() {
        // Column titles over nothing only add noise.
        return vec![Line::from(Span::styled(empty, t.muted()))];
    }
    let mut out = vec![header];
    let h = usize::from(height.saturating_sub(1));
    let offset = fmt::scroll_offset(selected, h);
    for (i, line) in rows.into_iter().enumerate().skip(offset).take(h) {
        if i == selected {
            out.push(pad(line, width).patch_style(t.selected()));
        } else {
            out.push(line);
        }
    }
    out
}

/// `line` padded with spaces to `width`, so a reversed row spans the screen.
fn pad(mut line: Line<'_>, width: u16) -> Line<'_> {
    let w: u16 = line.spans.iter().map(|s| fmt::width(&s.content)).sum();
    if w < width {
        line.spans
            .push(Span::raw(" ".repeat(usize::from(width - w))));
    }
    line
}

fn empty_text(m: &Model, what: &str) -> String {
    if m.filter.is_empty() {
        format!("no {what}")
    } else {
        format!("no {what} match \"{}\" (Esc clears the filter)", m.filter)
    }
}

/// The event column: short names, `NEW` for a client nobody knows, `!` in
/// front of failures so they read without colour.
fn event_label(e: &Event) -> String {
    let name = match e.kind {
        EventKind::Arrival if e.unknown => "NEW",
        EventKind::HookResult => "hook",
        EventKind::HostAdded => "host add",
        EventKind::HostUpdated => "host upd",
        EventKind::HostRemoved => "host del",
        k => k.as_str(),
    };
    if e.ok {
        name.to_string()
    } else {
        format!("!{name}")
    }
}

/// One line about the selected event, with what the columns cut or drop.
fn event_detail(e: &Event, tz: &TimeZone) -> String {
    let mut head = e.kind.as_str().to_string();
    if e.unknown {
        head.push_str(" (unknown client)");
    }
    if !e.detail.is_empty() {
        head.push_str(&format!(": {}", e.detail));
    }
    let mut parts = vec![head];
    let who: Vec<String> = [
        e.mac.clone(),
        e.ip.map(|a| a.to_string()),
        e.hostname.clone(),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !who.is_empty() {
        parts.push(who.join(" "));
    }
    if let Some(v) = &e.vendor_class {
        parts.push(format!("vendor {v}"));
    }
    if let Some(i) = &e.interface {
        parts.push(format!("via {i}"));
    }
    parts.push(fmt::full(e.at, tz));
    parts.join(" · ")
}

fn arrivals_lines<'a>(
    m: &Model,
    area: Rect,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let items = rows::feed(m);
    // Cell texts first, so the columns can be sized to their content.
    let cells: Vec<Option<[String; 8]>> = items
        .iter()
        .map(|item| match &item.entry {
            FeedEntry::Note { .. } => None,
            FeedEntry::Event(e) => Some([
                fmt::when(e.at, now, tz),
                event_label(e),
                e.mac.clone().unwrap_or_default(),
                e.ip.map(|a| a.to_string()).unwrap_or_default(),
                e.hostname.clone().unwrap_or_default(),
                e.vendor_class.clone().unwrap_or_default(),
                e.interface.clone().unwrap_or_default(),
                e.detail.clone(),
            ]),
        })
        .collect();
    let col = |i: usize| cells.iter().flatten().map(move |c| c[i].as_str());
    let cols = vec![
        Col::fixed("Time", 0, col(0)),
        Col::fixed("Event", 1, col(1)),
        Col::fixed("MAC", 2, col(2)),
        Col::fixed("IP", 3, col(3)),
        Col::fill("Hostname", 4, 10, col(4)),
        Col::fill("Vendor", 6, 8, col(5)),
        Col::fixed("If", 5, col(6)),
        Col::fill("Detail", 7, 10, col(7)),
    ];
    let widths = fmt::fit(&cols, area.width);
    let lines: Vec<Line<'a>> = items
        .iter()
        .zip(cells)
        .map(|(item, c)| match (&item.entry, c) {
            (FeedEntry::Event(e), Some(c)) if e.mac.is_none() && e.ip.is_none() => {
                // Nothing to put in the client columns (a hook, a reload):
                // let the detail use the room instead of a dropped column.
                let style = if e.ok { t.plain() } else { t.failure() };
                let [time, kind, ..] = c;
                let head = fmt::row(vec![(time, t.plain()), (kind, style)], &widths[..2]);
                let used: u16 = head.spans.iter().map(|s| fmt::width(&s.content)).sum();
                let text = [e.detail.as_str(), e.interface.as_deref().unwrap_or("")]
                    .iter()
                    .filter(|s| !s.is_empty())
                    .copied()
                    .collect::<Vec<_>>()
                    .join(" · ");
                let mut spans = head.spans;
                spans.push(Span::raw(" "));
                spans.push(Span::styled(
                    fmt::fit_text(&text, area.width.saturating_sub(used + 1)),
                    style,
                ));
                Line::from(spans)
            }
            (FeedEntry::Event(e), Some(c)) => {
                let style = if !e.ok {
                    t.failure()
                } else if e.kind == EventKind::Arrival && e.unknown {
                    t.new_client()
                } else {
                    t.plain()
                };
                let [time, kind, mac, ip, host, vendor, iface, detail] = c;
                fmt::row(
                    vec![
                        (time, t.plain()),
                        (kind, style),
                        (mac, style),
                        (ip, t.plain()),
                        (host, style),
                        (vendor, t.plain()),
                        (iface, t.plain()),
                        (detail, style),
                    ],
                    &widths,
                )
            }
            (FeedEntry::Note { at, text }, _) => {
                // A note spans the row instead of sitting in columns.
                let time = at.map(|a| fmt::when(a, now, tz)).unwrap_or_default();
                let time_w = widths.first().copied().unwrap_or(8);
                let rest = area.width.saturating_sub(time_w + 1);
                Line::from(vec![
                    Span::styled(fmt::fit_text(&time, time_w), t.muted()),
                    Span::raw(" "),
                    Span::styled(
                        fmt::fit_text(&format!("── {text} ──"), rest),
                        t.muted().add_modifier(Modifier::ITALIC),
                    ),
                ])
            }
            (FeedEntry::Event(_), None) => Line::default(),
        })
        .collect();
    let empty = if m.filter.is_empty() {
        "no events yet: new clients, offers and acks will appear here, newest first".to_string()
    } else {
        empty_text(m, "events")
    };
    let selected = rows::selected_index(m, View::Arrivals);
    let detail = items.get(selected).map(|item| match &item.entry {
        FeedEntry::Event(e) => event_detail(e, tz),
        FeedEntry::Note { text, .. } => text.clone(),
    });
    with_detail(
        fmt::header(&cols, &widths, t.header()),
        lines,
        selected,
        area,
        empty,
        detail,
        t,
    )
}

/// A [`table`] with one line about the selected row at the bottom of `area`.
fn with_detail<'a>(
    header: Line<'a>,
    lines: Vec<Line<'a>>,
    selected: usize,
    area: Rect,
    empty: String,
    detail: Option<String>,
    t: Theme,
) -> Vec<Line<'a>> {
    let height = if detail.is_some() {
        area.height.saturating_sub(1)
    } else {
        area.height
    };
    let mut out = table(header, lines, selected, height, area.width, empty, t);
    if let Some(d) = detail {
        while out.len() < usize::from(height) {
            out.push(Line::default());
        }
        out.push(Line::from(Span::styled(
            fmt::fit_text(&d, area.width),
            t.muted(),
        )));
    }
    out
}

/// The time-left cell of a lease.
fn time_left(l: &LeaseInfo, now: i64) -> String {
    let counts = matches!(l.state, LeaseState::Bound | LeaseState::Offered)
        || l.kind == LeaseKind::Quarantined;
    if !counts {
        "-".to_string()
    } else if l.ends <= now {
        "expired".to_string()
    } else {
        fmt::countdown(l.ends - now)
    }
}

fn leases_lines<'a>(
    m: &Model,
    area: Rect,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let leases = rows::leases(m);
    let n = now.as_second();
    let cells: Vec<[String; 7]> = leases
        .iter()
        .map(|l| {
            [
                l.ip.to_string(),
                l.mac.clone(),
                l.hostname.clone().unwrap_or_default(),
                l.kind.as_str().to_string(),
                l.state.as_str().to_string(),
                time_left(l, n),
                fmt::when(l.ends, now, tz),
            ]
        })
        .collect();
    let col = |i: usize| cells.iter().map(move |c| c[i].as_str());
    let arrow = if m.sort_desc { "▼" } else { "▲" };
    let title = |name: &str, s: super::model::LeaseSort| {
        if m.sort == s {
            format!("{name}{arrow}")
        } else {
            name.to_string()
        }
    };
    use super::model::LeaseSort as S;
    let cols = vec![
        Col::fixed(title("IP", S::Ip), 0, col(0)),
        Col::fixed(title("MAC", S::Mac), 4, col(1)),
        Col::fill(title("Hostname", S::Hostname), 1, 10, col(2)),
        Col::fixed(title("Kind", S::Kind), 3, col(3)),
        Col::fixed(title("State", S::State), 6, col(4)),
        Col::fixed(title("Left", S::Ends), 2, col(5)),
        Col::fixed("Expires", 5, col(6)),
    ];
    let widths = fmt::fit(&cols, area.width);
    let lines: Vec<Line<'a>> = leases
        .iter()
        .zip(cells)
        .map(|(l, c)| {
            let [ip, mac, host, kind, state, left, ends] = c;
            let faded = matches!(l.state, LeaseState::Released | LeaseState::Expired);
            let base = if faded { t.muted() } else { t.plain() };
            let left_style = if left == "expired" { t.muted() } else { base };
            fmt::row(
                vec![
                    (ip, base),
                    (mac, base),
                    (host, base),
                    (kind, t.kind(l.kind)),
                    (state, base),
                    (left, left_style),
                    (ends, base),
                ],
                &widths,
            )
        })
        .collect();
    let selected = rows::selected_index(m, View::Leases);
    let detail = leases.get(selected).map(|l| lease_detail(l, tz));
    with_detail(
        fmt::header(&cols, &widths, t.header()),
        lines,
        selected,
        area,
        empty_text(m, "leases"),
        detail,
        t,
    )
}

/// One line about the selected lease: what does not fit in the columns.
fn lease_detail(l: &LeaseInfo, tz: &TimeZone) -> String {
    let mut parts = vec![l.mac.clone()];
    if let Some(to) = l.moving_to {
        parts.push(format!("moving to {to}"));
    }
    parts.push(format!("{} {}", l.kind.as_str(), l.state.as_str()));
    parts.push(format!("ends {}", fmt::full(l.ends, tz)));
    if let Some(s) = &l.subnet {
        parts.push(s.clone());
    }
    parts.push(format!("client-id {}", l.client_id));
    parts.join(" · ")
}

fn hosts_lines<'a>(
    m: &Model,
    area: Rect,
    t: Theme,
    now: Timestamp,
    tz: &TimeZone,
) -> Vec<Line<'a>> {
    let hosts = rows::hosts(m);
    let cells: Vec<[String; 6]> = hosts
        .iter()
        .map(|h| {
            let opts: Vec<String> = h.options.iter().map(|(k, v)| format!("{k}={v}")).collect();
            [
                h.name.clone(),
                h.ip.to_string(),
                h.mac
                    .clone()
                    .or_else(|| h.client_id.clone())
                    .unwrap_or_default(),
                rows::origin_name(h.origin).to_string(),
                opts.join(", "),
                h.created_at
                    .map(|c| fmt::when(c, now, tz))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let col = |i: usize| cells.iter().map(move |c| c[i].as_str());
    let cols = vec![
        Col::fill("Name", 0, 8, col(0)),
        Col::fixed("IP", 1, col(1)),
        Col::fixed("MAC", 2, col(2)),
        Col::fixed("Origin", 3, col(3)),
        Col::fill("Options", 4, 10, col(4)),
        Col::fixed("Added", 5, col(5)),
    ];
    let widths = fmt::fit(&cols, area.width);
    let lines = hosts
        .iter()
        .zip(cells)
        .map(|(h, c)| {
            let origin_style = match h.origin {
                berth_proto::Origin::Config => t.plain(),
                berth_proto::Origin::Store => t.fg(Color::Cyan),
            };
            let [name, ip, mac, origin, opts, added] = c;
            fmt::row(
                vec![
                    (name, t.plain()),
                    (ip, t.plain()),
                    (mac, t.plain()),
                    (origin, origin_style),
                    (opts, t.muted()),
                    (added, t.plain()),
                ],
                &widths,
            )
        })
        .collect();
    table(
        fmt::header(&cols, &widths, t.header()),
        lines,
        rows::selected_index(m, View::Hosts),
        area.height,
        area.width,
        empty_text(m, "static hosts"),
        t,
    )
}

/// Three lines per range: where it is, a gauge (leased `█`, quarantined `▒`,
/// free `░`, so it reads without colour), and a blank.
fn pools_lines<'a>(m: &Model, area: Rect, t: Theme) -> Vec<Line<'a>> {
    let pools = rows::pools(m);
    if pools.is_empty() {
        return vec![Line::from(Span::styled(
            empty_text(m, "dynamic ranges"),
            t.muted(),
        ))];
    }
    let selected = rows::selected_index(m, View::Pools);
    let per = 3usize;
    let fit = (usize::from(area.height) / per).max(1);
    let offset = fmt::scroll_offset(selected, fit);
    let mut out = Vec::new();
    for (i, p) in pools.iter().enumerate().skip(offset).take(fit) {
        let head = format!(
            "{}  {} – {}  ({} addresses)",
            p.subnet, p.start, p.end, p.size
        );
        let mut head = Line::from(Span::styled(fmt::fit_text(&head, area.width), t.header()));
        if i == selected {
            head = head.patch_style(t.selected());
        }
        out.push(head);
        let pct = (p.leased * 100 + p.size / 2)
            .checked_div(p.size)
            .unwrap_or(0);
        let text = format!(
            " {pct:>3}%  {} leased · {} free · {} quarantined",
            p.leased, p.free, p.quarantined
        );
        let bar_w = area
            .width
            .saturating_sub(fmt::width(&text) + 2)
            .max(10)
            .min(area.width.saturating_sub(2));
        let [used, quar, free] = gauge_cells(p.leased, p.quarantined, p.size, bar_w);
        let mut spans = vec![
            Span::raw(" "),
            Span::styled("█".repeat(used), t.fg(Color::Green)),
            Span::styled("▒".repeat(quar), t.fg(Color::Magenta)),
            Span::styled("░".repeat(free), t.muted()),
        ];
        let room = area.width.saturating_sub(bar_w + 1);
        spans.push(Span::styled(fmt::fit_text(&text, room), t.plain()));
        out.push(Line::from(spans));
        out.push(Line::default());
    }
    out
}

/// Cells of a `width`-cell gauge for leased, quarantined and free. A
/// non-zero count always gets at least one cell so it is never invisible.
fn gauge_cells(leased: u64, quarantined: u64, size: u64, width: u16) -> [usize; 3] {
    let w = u64::from(width);
    if size == 0 || w == 0 {
        return [0, 0, usize::from(width)];
    }
    let scale = |n: u64| {
        let c = (n.min(size) * w + size / 2) / size;
        if n > 0 { c.max(1) } else { c }
    };
    let used = scale(leased).min(w);
    let quar = scale(quarantined).min(w - used);
    let free = w - used - quar;
    let cast = |n: u64| usize::try_from(n).unwrap_or(0);
    [cast(used), cast(quar), cast(free)]
}

/// Connection, daemon version, counts and socket, dropping from the right
/// when narrow.
fn status_line<'a>(m: &Model, width: u16, t: Theme, now: Timestamp) -> Line<'a> {
    let (conn, alarm) = match &m.conn {
        Conn::Connected if m.live() => ("connected".to_string(), false),
        Conn::Connected => ("connected, loading…".to_string(), false),
        Conn::Connecting { attempt } if *attempt <= 1 => ("connecting…".to_string(), false),
        Conn::Connecting { attempt } => (format!("connecting (try {attempt})…"), false),
        Conn::Reconnecting { retry_at, .. } => {
            let left = retry_at - now.as_second();
            if left > 0 {
                (format!("RECONNECTING in {left}s"), true)
            } else {
                ("RECONNECTING…".to_string(), true)
            }
        }
    };
    let mut parts: Vec<(String, Style)> =
        vec![(format!(" {conn} "), if alarm { t.alarm() } else { t.bar() })];
    let socket = (format!(" {} ", m.socket), t.bar());
    if !m.live() {
        // While down, which socket is being tried matters more than counts
        // that may be out of date.
        parts.push(socket.clone());
    }
    if let Some(s) = &m.status {
        parts.push((format!(" berthd {} ", s.version), t.bar()));
        if m.live() {
            parts.push((
                format!(
                    " {}/{} leases bound · {}+{} hosts · {} blocked ",
                    s.leases_bound, s.leases_total, s.hosts_config, s.hosts_store, s.blocked
                ),
                t.bar(),
            ));
        }
    }
    if m.live() {
        parts.push(socket);
    }
    let mut spans = Vec::new();
    let mut used = 0u16;
    for (text, style) in parts {
        let sep = u16::from(!spans.is_empty());
        let w = fmt::width(&text);
        if used + sep + w > width {
            if spans.is_empty() {
                // Even the connection state must show, cut if need be.
                spans.push(Span::styled(fmt::fit_text(&text, width), style));
            }
            break;
        }
        if sep == 1 {
            spans.push(Span::styled("│", t.bar()));
        }
        spans.push(Span::styled(text, style));
        used += sep + w;
    }
    Line::from(spans)
}

/// The bottom line: the filter being typed, else the last message, else the
/// connection error, else key hints.
fn message_line<'a>(m: &Model, t: Theme) -> Line<'a> {
    if m.filter_editing {
        return Line::from(vec![
            Span::styled("/", t.header()),
            Span::raw(m.filter.clone()),
            Span::styled("█", Style::default()),
            Span::styled(
                "  Enter keeps · Esc clears",
                Style::default().add_modifier(Modifier::DIM),
            ),
        ]);
    }
    if let Some(n) = &m.notice {
        let style = match n.level {
            Level::Error => t.error(),
            Level::Info => Style::default(),
        };
        return Line::from(Span::styled(n.text.clone(), style));
    }
    if let Conn::Reconnecting { error, .. } = &m.conn {
        return Line::from(Span::styled(format!("last error: {error}"), t.error()));
    }
    Line::from(Span::styled(
        "? keys · q quit · / filter · s sort · p promote · r release · b block",
        Style::default().add_modifier(Modifier::DIM),
    ))
}

/// A centred rectangle of at most `w`x`h` inside `area`.
fn centred(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width);
    let h = h.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

const HELP: &[(&str, &str)] = &[
    ("1-4 Tab S-Tab", "switch view"),
    ("↑ ↓ j k", "move"),
    ("PgUp PgDn g G", "page, top, bottom"),
    ("/", "filter (Enter keeps, Esc clears)"),
    ("Esc", "clear filter or message"),
    ("s  S", "sort leases: next column, reverse"),
    ("p", "promote a dynamic lease to static"),
    ("r", "release the lease"),
    ("b", "block the MAC"),
    ("F5 Ctrl-R", "reload now"),
    ("?", "this help (any key closes)"),
    ("q Ctrl-C", "quit"),
];

fn draw_help(f: &mut Frame, area: Rect) {
    let mut lines: Vec<Line> = HELP
        .iter()
        .map(|(k, what)| {
            Line::from(vec![
                Span::styled(
                    format!(" {k:<14}"),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::default());
    lines.push(Line::from(" Arrivals: NEW = unknown client, ! = failure."));
    lines.push(Line::from(" p r b also act on the selected arrival."));
    lines.push(Line::from(" Times are local (TZ); STALE = not live."));
    let h = u16::try_from(lines.len()).unwrap_or(u16::MAX) + 2;
    let rect = centred(area, 54, h);
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys ")),
        rect,
    );
}

fn draw_promote(f: &mut Frame, area: Rect, form: &PromoteForm, t: Theme) {
    let rect = centred(area, 56, 9);
    let field = |label: &str, value: &str, focused: bool| {
        let mut spans = vec![Span::raw(format!(" {label:<10}"))];
        if focused {
            spans.push(Span::styled(
                format!("{value}█"),
                Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ));
        } else {
            spans.push(Span::styled(
                value.to_string(),
                Style::default().add_modifier(Modifier::UNDERLINED),
            ));
        }
        Line::from(spans)
    };
    let mut lines = vec![
        Line::from(format!(" {:<10}{}", "MAC", form.mac)),
        Line::from(format!(" {:<10}{} (dynamic)", "now at", form.current_ip)),
        field("static IP", &form.ip, form.focus == PromoteField::Ip),
        field(
            "hostname",
            &form.hostname,
            form.focus == PromoteField::Hostname,
        ),
        Line::default(),
    ];
    match &form.error {
        Some(e) => lines.push(Line::from(Span::styled(format!(" {e}"), t.error()))),
        None => lines.push(Line::default()),
    }
    lines.push(Line::from(Span::styled(
        " Enter promote · Tab next field · Esc cancel",
        Style::default().add_modifier(Modifier::DIM),
    )));
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" Promote to static host ")),
        rect,
    );
}

fn draw_confirm(f: &mut Frame, area: Rect, question: &str) {
    let w = 54u16.min(area.width);
    // Borders and padding take four columns; the question wraps in the rest.
    let inner_w = w.saturating_sub(4).max(1);
    let rect = centred(area, w, fmt::width(question).div_ceil(inner_w) + 5);
    let lines = vec![
        Line::from(question.to_string()),
        Line::default(),
        Line::from(Span::styled(
            "Enter/y confirm · Esc/n cancel",
            Style::default().add_modifier(Modifier::DIM),
        )),
    ];
    f.render_widget(Clear, rect);
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::bordered()
                .title(" Confirm ")
                .padding(Padding::horizontal(1)),
        ),
        rect,
    );
}
