//! Opens a URL in the person's web browser the way `xdg-open` and Python's `webbrowser` do:
//! commands from the `BROWSER` variable first (a `:`-separated list, `;` on Windows; `%s` in a
//! command stands for the URL, otherwise the URL is appended), then the platform's opener.

use std::process::{Command, Stdio};

use crate::platform::authorization::AgentError;

/// Ordered list of commands that may open a URL in a browser.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrowserLauncher {
    commands: Vec<Vec<String>>,
}

/// Separator between commands in `BROWSER`, like the platform's `PATH` separator.
const LIST_SEPARATOR: char = if cfg!(windows) { ';' } else { ':' };

impl BrowserLauncher {
    /// The commands in the `BROWSER` environment variable, then the platform's opener.
    pub fn from_env() -> Self {
        let mut launcher =
            std::env::var("BROWSER").map(|value| Self::from_browser_var(&value)).unwrap_or_default();
        launcher.commands.extend(Self::platform_default().commands);
        launcher
    }

    /// Only the commands listed in `value`, written like the `BROWSER` variable, e.g.
    /// `"firefox:curl -sL %s"`. Arguments are separated by whitespace.
    pub fn from_browser_var(value: &str) -> Self {
        let commands = value
            .split(LIST_SEPARATOR)
            .map(|entry| entry.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .filter(|command| !command.is_empty())
            .collect();
        Self { commands }
    }

    /// The platform's opener: `open` on macOS, `rundll32 url.dll,FileProtocolHandler` on Windows
    /// (what `start` runs, without `cmd`'s special treatment of `&` in URLs), `xdg-open`
    /// elsewhere.
    pub fn platform_default() -> Self {
        let command: &[&str] = if cfg!(target_os = "macos") {
            &["open"]
        } else if cfg!(windows) {
            &["rundll32", "url.dll,FileProtocolHandler"]
        } else {
            &["xdg-open"]
        };
        Self { commands: vec![command.iter().map(|part| (*part).to_owned()).collect()] }
    }

    /// Runs the commands in order until one exits successfully. Blocks until that command
    /// exits (a browser that stays in the foreground blocks until it is closed).
    pub fn open(&self, url: &str) -> Result<(), AgentError> {
        let mut failures = Vec::new();
        for command in &self.commands {
            let line = command_line(command, url);
            let Some((program, args)) = line.split_first() else {
                continue;
            };
            let outcome = Command::new(program)
                .args(args)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            match outcome {
                Ok(status) if status.success() => {
                    tracing::debug!(%program, "browser opened");
                    return Ok(());
                }
                Ok(status) => failures.push(format!("`{program}` exited with {status}")),
                Err(error) => failures.push(format!("`{program}`: {error}")),
            }
        }
        if failures.is_empty() {
            failures.push("no browser command configured".to_owned());
        }
        Err(AgentError::BrowserUnavailable { reason: failures.join("; ") })
    }
}

/// The command with `%s` replaced by `url`, or `url` appended when no argument has `%s`.
fn command_line(command: &[String], url: &str) -> Vec<String> {
    let mut line: Vec<String> = command.iter().map(|part| part.replace("%s", url)).collect();
    if !command.iter().any(|part| part.contains("%s")) {
        line.push(url.to_owned());
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn browser_var_is_a_list_of_commands() {
        let separator = LIST_SEPARATOR;
        let launcher =
            BrowserLauncher::from_browser_var(&format!("firefox{separator}{separator} curl -sL %s "));
        assert_eq!(
            launcher.commands,
            vec![vec!["firefox".to_owned()], vec!["curl".to_owned(), "-sL".to_owned(), "%s".to_owned()]]
        );
    }

    #[test]
    fn url_replaces_placeholder_or_is_appended() {
        let url = "https://idp/authorize?a=1&b=2";
        assert_eq!(command_line(&["firefox".into()], url), vec!["firefox", url]);
        assert_eq!(
            command_line(&["browser".into(), "--url=%s".into(), "--new".into()], url),
            vec!["browser".to_owned(), format!("--url={url}"), "--new".to_owned()]
        );
    }

    #[test]
    fn unavailable_browsers_are_reported_in_order() {
        let launcher = BrowserLauncher::from_browser_var("unbox-no-such-browser-1");
        let Err(AgentError::BrowserUnavailable { reason }) = launcher.open("https://idp/") else {
            panic!("a missing browser must not count as opened");
        };
        assert!(reason.contains("unbox-no-such-browser-1"), "{reason}");
        assert!(matches!(
            BrowserLauncher::default().open("https://idp/"),
            Err(AgentError::BrowserUnavailable { .. })
        ));
    }
}
