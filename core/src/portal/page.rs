//! Reads the Wi-Fi page a captive portal serves (`/wifi`, `/0wifi`): the networks the device
//! scanned and the fields of its `wifisave` form.
//!
//! WiFiManager (`WiFiManager.cpp` `getScanItemOut`, templates in `wm_strings_en.h`) writes one
//! item per network, strongest first, without empty SSIDs:
//! `<div><a href='#p' onclick='c(this)' data-ssid='{V}'>{v}</a><div role='img' aria-label='{r}%'
//! title='{r}%' class='q q-{q} {i} {h}'></div><div class='q {h}'>{r}%</div></div>`, where
//! `{V}` is the SSID with `& < > '` as entities, `{v}` the same with spaces as `&#160;`, `{r}`
//! the quality in percent and `{i}` is `l` for a secured network. Older WiFiManager and
//! ESPAsyncWiFiManager write `<a href='#p' onclick='c(this)'>{v}</a>&nbsp;<span class='q {i}'>{r}%</span>`.
//! Both, either quote style and any attribute order are read. The form (`HTTP_FORM_START` with
//! action `wifisave`) holds `s`, `p`, the static-IP fields and, with `_paramsInWifi` (the
//! default), every custom parameter as `<input id='{i}' name='{n}' maxlength='{l}' value='{v}'>`.

/// Most networks read from one page (a dense scan lists a few dozen).
const MAX_NETWORKS: usize = 128;
/// Most form fields read from one page.
const MAX_FIELDS: usize = 64;

/// A network the device lists on its portal page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalNetwork {
    /// The network name.
    pub ssid: String,
    /// Signal quality in percent (WiFiManager: 2 × (RSSI + 100), clamped to 0..=100), when shown.
    pub quality: Option<u8>,
    /// Whether the network needs a password (the lock icon).
    pub secured: bool,
}

/// A field of the portal's `wifisave` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalField {
    /// The name the value is posted under (a custom parameter's id).
    pub name: String,
    /// The most characters the firmware keeps (it cuts longer values silently), when declared.
    pub max_len: Option<usize>,
}

/// What a portal's Wi-Fi page says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortalPage {
    /// The networks the device scanned, in page order (strongest first on WiFiManager).
    pub networks: Vec<PortalNetwork>,
    /// The fields of the `wifisave` form.
    pub fields: Vec<PortalField>,
}

impl PortalPage {
    /// The form field posted under `name`, if the firmware declares it.
    pub fn field(&self, name: &str) -> Option<&PortalField> {
        self.fields.iter().find(|field| field.name == name)
    }
}

/// Why a page is not a portal's Wi-Fi page.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// No form posts to `wifisave`: another captive portal (a hotel's, a router's) or garbage.
    #[error("the page has no form posting to `wifisave`; this is not a WiFiManager-style setup portal")]
    NoWifiForm,
    /// The page ends inside a tag.
    #[error("the page ends inside an HTML tag; the device sent a truncated page, retry")]
    Truncated,
    /// More networks or fields than any device lists.
    #[error("the page lists more than {0} networks or form fields; refusing to read it")]
    TooMany(usize),
}

/// Reads a portal page. Networks are the anchors that call `c(this)` (the page's script fills
/// the SSID field from them); a page with a `wifisave` form and no such anchor has no networks
/// (`/0wifi`, or "No networks found").
pub fn parse_page(html: &str) -> Result<PortalPage, PageError> {
    let tags = Tags { html, at: 0 };
    let mut page = PortalPage::default();
    let mut in_form = false;
    let mut saw_form = false;
    let mut network: Option<(PortalNetwork, usize)> = None;
    for tag in tags {
        let tag = tag?;
        match tag.name.as_str() {
            "a" if tag.attr("onclick").is_some_and(|js| js.replace(' ', "").starts_with("c(this)")) => {
                finish(&mut page, network.take())?;
                let text = text_until(html, tag.end, "</a");
                let ssid = tag.attr("data-ssid").map_or_else(|| decode_entities(text), decode_entities);
                network = Some((PortalNetwork { ssid, quality: None, secured: false }, tag.end));
            }
            "form" => {
                finish(&mut page, network.take())?;
                in_form =
                    tag.attr("action").is_some_and(|action| action.trim_start_matches('/') == "wifisave");
                saw_form |= in_form;
            }
            "/form" => in_form = false,
            "input" if in_form => {
                // A browser posts only named fields.
                let Some(name) = tag.attr("name") else { continue };
                if page.fields.len() == MAX_FIELDS {
                    return Err(PageError::TooMany(MAX_FIELDS));
                }
                let max_len = tag.attr("maxlength").and_then(|len| len.trim().parse().ok());
                page.fields.push(PortalField { name: decode_entities(name), max_len });
            }
            _ => {
                if let Some((item, _)) = network.as_mut() {
                    item.secured |=
                        tag.attr("class").is_some_and(|class| class.split_whitespace().any(|c| c == "l"));
                }
            }
        }
        if let Some((item, from)) = network.as_mut() {
            // The anchor's own text is the SSID, never its quality.
            if item.quality.is_none() && tag.name != "/a" {
                item.quality = quality_in(html.get(*from..tag.start).unwrap_or_default());
            }
            *from = tag.end;
        }
    }
    finish(&mut page, network)?;
    if !saw_form {
        return Err(PageError::NoWifiForm);
    }
    Ok(page)
}

/// Adds a finished network item (WiFiManager skips empty SSIDs; so does this).
fn finish(page: &mut PortalPage, item: Option<(PortalNetwork, usize)>) -> Result<(), PageError> {
    let Some((network, _)) = item else { return Ok(()) };
    if network.ssid.is_empty() {
        return Ok(());
    }
    if page.networks.len() == MAX_NETWORKS {
        return Err(PageError::TooMany(MAX_NETWORKS));
    }
    page.networks.push(network);
    Ok(())
}

/// The first `NN%` in a stretch of text between tags, as a quality of at most 100.
fn quality_in(text: &str) -> Option<u8> {
    let percent = text.find('%')?;
    let digits = text.get(..percent)?;
    let start = digits.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
    digits.get(start..)?.parse::<u8>().ok().filter(|quality| *quality <= 100)
}

/// The text from `from` up to `end` (a closing tag), or the rest of the page.
fn text_until<'a>(html: &'a str, from: usize, end: &str) -> &'a str {
    let rest = html.get(from..).unwrap_or_default();
    rest.get(..rest.find(end).unwrap_or(rest.len())).unwrap_or_default()
}

/// Replaces the entities WiFiManager writes (`&amp; &lt; &gt; &#39; &#160;`) and the other
/// common ones; an unknown or broken entity stays as written.
pub(crate) fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let after = rest.get(amp + 1..).unwrap_or_default();
        let decoded = after.find(';').filter(|end| *end <= 8).and_then(|end| {
            let name = after.get(..end)?;
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                "nbsp" => '\u{a0}',
                _ => {
                    let number = name.strip_prefix('#')?;
                    let code = match number.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => number.parse().ok()?,
                    };
                    char::from_u32(code)?
                }
            };
            Some((c, end))
        });
        match decoded {
            Some((c, end)) => {
                // A non-breaking space stands for the space WiFiManager replaced.
                out.push(if c == '\u{a0}' { ' ' } else { c });
                rest = after.get(end + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// One start or end tag: its lowercase name (`/form` for an end tag) and attributes.
struct Tag<'a> {
    name: String,
    attributes: &'a str,
    /// Where the tag starts (its `<`) and ends (past its `>`).
    start: usize,
    end: usize,
}

impl Tag<'_> {
    /// The value of attribute `name` (ignoring ASCII case); an attribute without a value is "".
    fn attr(&self, name: &str) -> Option<&str> {
        let mut rest = self.attributes;
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
            if rest.is_empty() {
                return None;
            }
            let name_end =
                rest.find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/').unwrap_or(rest.len());
            let (key, after) = rest.split_at(name_end);
            let after = after.trim_start();
            let (value, next) = match after.strip_prefix('=') {
                Some(value) => {
                    let value = value.trim_start();
                    match value.chars().next() {
                        Some(quote @ ('\'' | '"')) => {
                            let inner = value.get(1..).unwrap_or_default();
                            let close = inner.find(quote).unwrap_or(inner.len());
                            (
                                inner.get(..close).unwrap_or_default(),
                                inner.get(close + 1..).unwrap_or_default(),
                            )
                        }
                        _ => {
                            let end = value.find(|c: char| c.is_ascii_whitespace()).unwrap_or(value.len());
                            value.split_at(end)
                        }
                    }
                }
                None => ("", after),
            };
            if key.eq_ignore_ascii_case(name) {
                return Some(value);
            }
            rest = next;
        }
    }
}

/// The tags of a page in order; comments, scripts and styles are skipped whole.
struct Tags<'a> {
    html: &'a str,
    at: usize,
}

impl<'a> Iterator for Tags<'a> {
    type Item = Result<Tag<'a>, PageError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let rest = self.html.get(self.at..)?;
            let start = self.at + rest.find('<')?;
            let after = self.html.get(start + 1..).unwrap_or_default();
            if after.starts_with("!--") {
                let Some(close) = after.find("-->") else { return Some(Err(PageError::Truncated)) };
                self.at = start + 1 + close + 3;
                continue;
            }
            let name_len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '/' || c == '!'))
                .unwrap_or(after.len());
            if name_len == 0 {
                // A lone `<` in text.
                self.at = start + 1;
                continue;
            }
            let Some(close) = tag_end(after) else { return Some(Err(PageError::Truncated)) };
            let name = after.get(..name_len).unwrap_or_default().to_ascii_lowercase();
            let attributes = after.get(name_len..close).unwrap_or_default();
            let end = start + 1 + close + 1;
            self.at = end;
            if name == "script" || name == "style" {
                let closing = format!("</{name}");
                let body = self.html.get(end..).unwrap_or_default().to_ascii_lowercase();
                let Some(skip) = body.find(&closing) else { return Some(Err(PageError::Truncated)) };
                self.at = end + skip;
            }
            return Some(Ok(Tag { name, attributes, start, end }));
        }
    }
}

/// Where a tag's `>` is, outside quoted attribute values.
fn tag_end(after: &str) -> Option<usize> {
    let mut quote = None;
    for (index, c) in after.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if open == c => quote = None,
            (None, '>') => return Some(index),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What WiFiManager v2 (`WiFiManager.cpp` `handleWifi`, `getScanItemOut`; templates of
    /// `wm_strings_en.h`) serves at `/wifi` with two networks and one custom parameter, head
    /// and script shortened.
    const WIFIMANAGER_V2: &str = "<!DOCTYPE html><html lang='en'><head><meta charset='UTF-8'>\
        <title>Config ESP</title><script>function c(l){document.getElementById('s').value=l.getAttribute('data-ssid')||l.innerText||l.textContent;p = l.nextElementSibling.classList.contains('l');document.getElementById('p').disabled = !p;if(p)document.getElementById('p').focus();};</script>\
        <style>.q{height:16px;}.l{background: url(\"data:image/png;base64,iVBOR\") no-repeat left center;}</style>\
        </head><body class='invert'><div class='wrap'>\
        <div><a href='#p' onclick='c(this)' data-ssid='Home &amp; Garden'>Home&#160;&amp;&#160;Garden</a><div role='img' aria-label='88%' title='88%' class='q q-4 l '></div><div class='q h'>88%</div></div>\
        <div><a href='#p' onclick='c(this)' data-ssid='Caf&#39;e'>Caf&#39;e</a><div role='img' aria-label='30%' title='30%' class='q q-2  '></div><div class='q h'>30%</div></div>\
        <br/><form method='POST' action='wifisave'><label for='s'>SSID</label><input id='s' name='s' maxlength='32' autocorrect='off' autocapitalize='none' placeholder=''><br/>\
        <label for='p'>Password</label><input id='p' name='p' maxlength='64' type='password' placeholder=''><input type='checkbox' id='showpass' onclick='f()'> <label for='showpass'>Show Password</label><br/>\
        <hr><br/><label for='claim'>Claim token</label><br/><input id='claim' name='claim' maxlength='80' value='' >\n\
        <br/><br/><button type='submit'>Save</button></form><br/><form action='/wifi?refresh=1' method='POST'><button name='refresh' value='1'>Refresh</button></form></div></body></html>";

    #[test]
    fn reads_the_networks_and_fields_wifimanager_v2_serves() {
        let page = parse_page(WIFIMANAGER_V2).unwrap();
        assert_eq!(
            page.networks,
            [
                PortalNetwork { ssid: "Home & Garden".into(), quality: Some(88), secured: true },
                PortalNetwork { ssid: "Caf'e".into(), quality: Some(30), secured: false },
            ]
        );
        let names: Vec<&str> = page.fields.iter().map(|field| field.name.as_str()).collect();
        assert_eq!(
            names,
            ["s", "p", "claim"],
            "the refresh form and the checkbox without a name are no fields"
        );
        assert_eq!(page.field("claim").and_then(|field| field.max_len), Some(80));
        assert_eq!(page.field("s").and_then(|field| field.max_len), Some(32));
        assert!(page.field("mqtt").is_none());
    }

    #[test]
    fn reads_the_older_item_form_without_data_ssid() {
        // WiFiManager 0.x / ESPAsyncWiFiManager: `HTTP_ITEM` with a span and `&nbsp;`.
        let html = "<div><a href=\"#p\" onclick=\"c(this)\">Office WLAN</a>&nbsp;<span class=\"q l\">46%</span></div>\
            <div><a href='#p' onclick='c(this)'>Guest</a>&nbsp;<span class='q'>100%</span></div>\
            <form method='get' action='/wifisave'><input id='s' name='s' length=32><input id='p' name='p' length=64 type='password'></form>";
        let page = parse_page(html).unwrap();
        assert_eq!(
            page.networks,
            [
                PortalNetwork { ssid: "Office WLAN".into(), quality: Some(46), secured: true },
                PortalNetwork { ssid: "Guest".into(), quality: Some(100), secured: false },
            ]
        );
        assert_eq!(page.fields.len(), 2);
        assert_eq!(page.fields[0].max_len, None);
    }

    #[test]
    fn a_page_without_networks_is_an_empty_list() {
        // `/0wifi`, or `S_nonetworks` after an empty scan.
        let html = "<div class='wrap'>No networks found. Refresh to scan again.<br/><br/>\
            <form method='POST' action='wifisave'><input id='s' name='s' maxlength='32'></form></div>";
        let page = parse_page(html).unwrap();
        assert!(page.networks.is_empty());
        assert_eq!(page.fields, [PortalField { name: "s".into(), max_len: Some(32) }]);
    }

    #[test]
    fn garbage_is_a_typed_error_never_a_panic() {
        assert_eq!(parse_page(""), Err(PageError::NoWifiForm));
        assert_eq!(
            parse_page("<html><body>Welcome to the Grand Hotel</body></html>"),
            Err(PageError::NoWifiForm)
        );
        assert_eq!(parse_page("<form action='wifisave'><input name='s"), Err(PageError::Truncated));
        assert_eq!(parse_page("<form action='wifisave'><!-- never closed"), Err(PageError::Truncated));
        assert_eq!(parse_page("<script>let a = 1 < 2;"), Err(PageError::Truncated));
        let many: String = (0..200).map(|i| format!("<a onclick='c(this)'>n{i}</a>")).collect();
        assert_eq!(parse_page(&many), Err(PageError::TooMany(MAX_NETWORKS)));
        for junk in [
            "<",
            "<<<>>>",
            "<a onclick='c(this)'",
            "&&&;#;&#xZZ;",
            "<a onclick='c(this)'>\u{1F600}&#1114112;",
            "<form action=wifisave>é<",
        ] {
            let _ = parse_page(junk);
        }
    }

    #[test]
    fn empty_ssids_are_skipped_as_the_firmware_does() {
        let html = "<a onclick='c(this)' data-ssid=''></a><div class='q'>50%</div><a onclick='c(this)'>x</a><form action='wifisave'></form>";
        let page = parse_page(html).unwrap();
        assert_eq!(page.networks, [PortalNetwork { ssid: "x".into(), quality: None, secured: false }]);
    }

    #[test]
    fn entities_decode_and_broken_ones_stay() {
        assert_eq!(decode_entities("a&amp;b&lt;c&gt;d&#39;e&#160;f&#x41;&quot;"), "a&b<c>d'e fA\"");
        assert_eq!(decode_entities("AT&T & co &bogus; &#xZZ;"), "AT&T & co &bogus; &#xZZ;");
    }

    #[test]
    fn quality_is_the_percentage_nearest_the_sign() {
        assert_eq!(quality_in("</a>&nbsp;88%"), Some(88));
        assert_eq!(quality_in("100%"), Some(100));
        assert_eq!(quality_in("250%"), None);
        assert_eq!(quality_in("no sign"), None);
        assert_eq!(quality_in("%"), None);
    }
}
