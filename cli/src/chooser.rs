//! The network chooser of `unbox provision` without `--ssid`: the networks the device itself
//! sees (the list core builds: strongest first, bars, security, band, warnings), picked with
//! the arrow keys or by typing a number, or a hidden network entered by name; then the
//! password, asked without echo (not for open networks, which are offered with their warning).

use async_trait::async_trait;
use console::{Key, Term};
use indicatif::MultiProgress;
use unbox_core::device::WifiCredentials;
use unbox_core::flow::{ChosenNetwork, NetworkChooser};
use unbox_core::onboarding::{NetworkList, NetworkSecurity, PickerNetwork, WifiBand};
use unbox_core::secret::SecretString;

/// What to say when no network is given and there is no terminal to choose on.
pub const NO_NETWORK_WITHOUT_TERMINAL: &str = "no network given: add --ssid NAME and --passphrase \
(or UNBOX_WIFI_PASSPHRASE; none for an open network); choosing from the device's list needs an \
interactive terminal (stdin and stderr) without --json";

/// Chooses on the terminal (stderr and its keyboard), with the progress bars out of the way.
pub struct TerminalChooser {
    bars: MultiProgress,
    /// The passphrase given on the command line (`--passphrase`), used instead of asking.
    given: Option<SecretString>,
}

impl TerminalChooser {
    /// A chooser drawing over `bars`; `given`: the passphrase to use instead of asking.
    pub fn new(bars: &MultiProgress, given: Option<SecretString>) -> Self {
        Self { bars: bars.clone(), given }
    }
}

#[async_trait]
impl NetworkChooser for TerminalChooser {
    async fn choose(&self, networks: NetworkList) -> Option<ChosenNetwork> {
        let bars = self.bars.clone();
        let given = self.given.clone();
        tokio::task::spawn_blocking(move || {
            bars.suspend(|| choose_on(&Term::stderr(), &networks, given.as_ref()).ok().flatten())
        })
        .await
        .ok()
        .flatten()
    }
}

/// One row of the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Row<'a> {
    Network(&'a PickerNetwork),
    /// Enter a (hidden) network's name by hand.
    ByName,
}

/// What a key press did.
#[derive(Debug, PartialEq, Eq)]
enum Pressed<'a> {
    /// Nothing chosen yet: draw the menu again.
    Redraw,
    Chosen(Row<'a>),
    Cancelled,
}

/// The picker's state: the rows, the highlighted one and the number being typed.
struct Menu<'a> {
    list: &'a NetworkList,
    rows: Vec<Row<'a>>,
    selected: usize,
    typed: String,
    note: Option<&'static str>,
}

impl<'a> Menu<'a> {
    fn new(list: &'a NetworkList) -> Self {
        let mut rows: Vec<Row<'a>> = list.networks.iter().map(Row::Network).collect();
        rows.push(Row::ByName);
        Self { list, rows, selected: 0, typed: String::new(), note: None }
    }

    /// Arrow keys move, digits pick by number, Enter chooses, Esc, `q` or Ctrl-C cancels.
    fn press(&mut self, key: Key) -> Pressed<'a> {
        self.note = None;
        match key {
            Key::ArrowUp | Key::Char('k') => {
                self.typed.clear();
                self.selected = self.selected.checked_sub(1).unwrap_or(self.rows.len() - 1);
            }
            Key::ArrowDown | Key::Char('j') | Key::Tab => {
                self.typed.clear();
                self.selected = (self.selected + 1) % self.rows.len();
            }
            Key::Home => self.selected = 0,
            Key::End => self.selected = self.rows.len() - 1,
            Key::Char(digit @ '0'..='9') => {
                // `1` then `2` is 12 when the list is that long, else a fresh 2.
                let longer = format!("{}{digit}", self.typed);
                let row =
                    |typed: &str| typed.parse::<usize>().ok().filter(|n| (1..=self.rows.len()).contains(n));
                match (row(&longer), row(&digit.to_string())) {
                    (Some(number), _) => {
                        self.typed = longer;
                        self.selected = number - 1;
                    }
                    (None, Some(number)) => {
                        self.typed = digit.to_string();
                        self.selected = number - 1;
                    }
                    (None, None) => {
                        self.typed.clear();
                        self.note = Some("no such number in the list");
                    }
                }
            }
            Key::Backspace => {
                self.typed.pop();
            }
            Key::Enter => {
                let row = self.rows[self.selected];
                if let Row::Network(network) = row
                    && !network.security.is_supported()
                {
                    self.note = network.warning();
                    return Pressed::Redraw;
                }
                return Pressed::Chosen(row);
            }
            Key::Escape | Key::Char('q') | Key::CtrlC => return Pressed::Cancelled,
            _ => {}
        }
        Pressed::Redraw
    }

    /// The menu as shown: a header, one line per row (the highlighted one marked), a warning
    /// under a network that has one, and the keys.
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![match self.list.networks.len() {
            0 => "The device reported no networks. Enter the network's name:".to_owned(),
            1 => "The device sees 1 network. Choose the one it should join:".to_owned(),
            n => format!("The device sees {n} networks. Choose the one it should join:"),
        }];
        let width = self.list.networks.iter().map(|n| n.ssid.chars().count()).max().unwrap_or(0).max(8);
        for (index, row) in self.rows.iter().enumerate() {
            let marker = if index == self.selected { '>' } else { ' ' };
            let number = index + 1;
            match row {
                Row::Network(network) => {
                    lines.push(format!("{marker} {number:>2}  {}", network_line(network, width)));
                    if let Some(warning) = network.warning() {
                        lines.push(format!("       ! {warning}"));
                    }
                }
                Row::ByName => {
                    let hidden = match self.list.hidden {
                        0 => String::new(),
                        1 => " (1 hidden network nearby)".to_owned(),
                        n => format!(" ({n} hidden networks nearby)"),
                    };
                    lines.push(format!("{marker} {number:>2}  Enter a network by name{hidden}"));
                }
            }
        }
        lines.push(match self.note {
            Some(note) => format!("  {note}"),
            None => "  ↑/↓ or a number, Enter to choose, Esc to cancel".to_owned(),
        });
        lines
    }
}

/// A network's line: name, bars and dBm, security, band and channel, other access points.
fn network_line(network: &PickerNetwork, width: usize) -> String {
    let others = match network.other_access_points {
        0 => String::new(),
        1 => "  +1 access point".to_owned(),
        n => format!("  +{n} access points"),
    };
    let channel = match network.channel {
        0 => String::new(),
        channel => format!(" ch {channel}"),
    };
    format!(
        "{:<width$}  {} {:>4} dBm  {:<10} {}{channel}{others}",
        network.ssid,
        bars(network.bars),
        network.rssi,
        security_name(network.security),
        band_name(network.band),
    )
}

/// Signal bars as four glyphs, the missing ones as dots.
fn bars(count: u8) -> String {
    ['▂', '▄', '▆', '█']
        .iter()
        .enumerate()
        .map(|(index, glyph)| if index < usize::from(count) { *glyph } else { '·' })
        .collect()
}

fn security_name(security: NetworkSecurity) -> &'static str {
    match security {
        NetworkSecurity::Open => "open",
        NetworkSecurity::Wep => "WEP",
        NetworkSecurity::Wpa => "WPA",
        NetworkSecurity::Wpa2 => "WPA2",
        NetworkSecurity::Wpa3 => "WPA3",
        NetworkSecurity::Wpa2Wpa3 => "WPA2/WPA3",
        NetworkSecurity::Enterprise => "enterprise",
        NetworkSecurity::Other => "other",
    }
}

fn band_name(band: WifiBand) -> &'static str {
    match band {
        WifiBand::Ghz2_4 => "2.4 GHz",
        WifiBand::Ghz5 => "5 GHz",
        WifiBand::Unknown => "band ?",
    }
}

/// Draws the menu and follows the keys until a row is chosen (`None`: cancelled).
fn pick<'a>(term: &Term, mut menu: Menu<'a>) -> std::io::Result<Option<Row<'a>>> {
    let mut drawn = menu.lines();
    term.write_line(&drawn.join("\n"))?;
    let chosen = loop {
        match menu.press(term.read_key_raw()?) {
            Pressed::Redraw => {
                term.clear_last_lines(drawn.len())?;
                drawn = menu.lines();
                term.write_line(&drawn.join("\n"))?;
            }
            Pressed::Chosen(row) => break Some(row),
            Pressed::Cancelled => break None,
        }
    };
    // The menu gives way to one line saying what was chosen.
    term.clear_last_lines(drawn.len())?;
    term.write_line(&match chosen {
        Some(Row::Network(network)) => format!("Network: {}", network.ssid),
        Some(Row::ByName) => "Network: entered by name".to_owned(),
        None => "No network chosen".to_owned(),
    })?;
    Ok(chosen)
}

/// Runs the picker on `term`, then asks what the chosen network needs. `None`: cancelled.
fn choose_on(
    term: &Term,
    list: &NetworkList,
    given: Option<&SecretString>,
) -> std::io::Result<Option<ChosenNetwork>> {
    if !term.is_term() {
        // No keys to read (stderr redirected): nothing can be chosen.
        return Ok(None);
    }
    term.hide_cursor()?;
    let picked = pick(term, Menu::new(list));
    term.show_cursor()?;
    // Whether a password is needed: `None` for a network entered by name (it may be open).
    let (ssid, needs_passphrase) = match picked? {
        None => return Ok(None),
        Some(Row::Network(network)) => {
            if let Some(warning) = network.warning() {
                term.write_line(&format!("{}: {warning}", network.ssid))?;
            }
            (network.ssid.clone(), Some(network.needs_passphrase()))
        }
        Some(Row::ByName) => loop {
            term.write_str("Network name (empty to cancel): ")?;
            let ssid = term.read_line()?;
            if ssid.is_empty() {
                return Ok(None);
            }
            match WifiCredentials::new(ssid.clone(), SecretString::default()).validate() {
                Ok(()) => break (ssid, None),
                Err(error) => term.write_line(&format!("{error}"))?,
            }
        },
    };
    let question = match needs_passphrase {
        Some(false) => return Ok(Some(ChosenNetwork { ssid, passphrase: SecretString::default() })),
        Some(true) => format!("Wi-Fi password for {ssid}: "),
        None => format!("Wi-Fi password for {ssid} (empty for an open network): "),
    };
    if let Some(passphrase) = given {
        return Ok(Some(ChosenNetwork { ssid, passphrase: passphrase.clone() }));
    }
    loop {
        let passphrase = SecretString::new(rpassword::prompt_password(&question)?);
        if needs_passphrase == Some(true) && passphrase.expose().is_empty() {
            term.write_line("This network needs a password.")?;
            continue;
        }
        match WifiCredentials::new(ssid.clone(), passphrase.clone()).validate() {
            Ok(()) => return Ok(Some(ChosenNetwork { ssid, passphrase })),
            Err(error) => term.write_line(&format!("{error}"))?,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn network(ssid: &str, rssi: i32, security: NetworkSecurity) -> PickerNetwork {
        PickerNetwork {
            ssid: ssid.into(),
            rssi,
            bars: unbox_core::onboarding::signal_bars(rssi),
            security,
            channel: 6,
            band: WifiBand::Ghz2_4,
            bssid: None,
            other_access_points: 0,
        }
    }

    fn list() -> NetworkList {
        NetworkList {
            networks: vec![
                network("HomeNet", -45, NetworkSecurity::Wpa2),
                network("Cafe", -70, NetworkSecurity::Open),
                network("Office", -80, NetworkSecurity::Enterprise),
            ],
            hidden: 2,
        }
    }

    #[test]
    fn the_menu_shows_bars_security_band_warnings_and_entering_a_name() {
        let list = list();
        let lines = Menu::new(&list).lines();
        assert_eq!(lines[0], "The device sees 3 networks. Choose the one it should join:");
        assert_eq!(lines[1], ">  1  HomeNet   ▂▄▆█  -45 dBm  WPA2       2.4 GHz ch 6");
        assert_eq!(lines[2], "   2  Cafe      ▂▄··  -70 dBm  open       2.4 GHz ch 6");
        assert!(lines[3].contains("! open network"), "{}", lines[3]);
        assert!(lines[4].contains("Office") && lines[4].contains("enterprise"), "{}", lines[4]);
        assert!(lines[5].contains("! enterprise networks cannot be set up"), "{}", lines[5]);
        assert_eq!(lines[6], "   4  Enter a network by name (2 hidden networks nearby)");
        assert!(lines[7].contains("Enter to choose"));
    }

    #[test]
    fn arrows_and_numbers_move_enter_chooses_and_escape_cancels() {
        let list = list();
        let mut menu = Menu::new(&list);
        assert_eq!(menu.press(Key::ArrowUp), Pressed::Redraw, "wraps to the last row");
        assert_eq!(menu.press(Key::Enter), Pressed::Chosen(Row::ByName));
        assert_eq!(menu.press(Key::ArrowDown), Pressed::Redraw, "wraps to the first row");
        assert_eq!(menu.press(Key::ArrowDown), Pressed::Redraw);
        assert_eq!(menu.press(Key::Enter), Pressed::Chosen(Row::Network(&list.networks[1])));
        assert_eq!(menu.press(Key::Char('1')), Pressed::Redraw);
        assert_eq!(menu.press(Key::Enter), Pressed::Chosen(Row::Network(&list.networks[0])));
        assert_eq!(menu.press(Key::Char('9')), Pressed::Redraw);
        assert!(menu.lines().last().unwrap().contains("no such number"));
        assert_eq!(menu.selected, 0, "a wrong number moves nothing");
        menu.press(Key::Char('2'));
        menu.press(Key::Char('3'));
        assert_eq!(menu.selected, 2, "23 is past the list: a fresh 3");
        assert_eq!(menu.press(Key::Escape), Pressed::Cancelled);
        assert_eq!(menu.press(Key::CtrlC), Pressed::Cancelled);
    }

    #[test]
    fn an_enterprise_network_is_not_chosen_and_the_menu_says_why() {
        let list = list();
        let mut menu = Menu::new(&list);
        menu.press(Key::Char('3'));
        assert_eq!(menu.press(Key::Enter), Pressed::Redraw);
        assert!(menu.lines().last().unwrap().contains("enterprise networks cannot be set up"));
    }

    #[test]
    fn without_networks_only_entering_a_name_is_offered() {
        let empty = NetworkList::default();
        let mut menu = Menu::new(&empty);
        let lines = menu.lines();
        assert!(lines[0].contains("no networks"), "{}", lines[0]);
        assert_eq!(lines[1], ">  1  Enter a network by name");
        assert_eq!(menu.press(Key::Enter), Pressed::Chosen(Row::ByName));
    }
}
