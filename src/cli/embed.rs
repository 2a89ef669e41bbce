//! `handoff-gate embed check`: whether a page may embed the form, and the
//! exact line to add when it may not. Reads the configuration only; fetches
//! nothing.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use super::serve::ConfigArgs;
use crate::config::{self, Config, Origin};

/// `handoff-gate embed …`
#[derive(Debug, clap::Subcommand)]
pub enum EmbedCommand {
    /// Say whether a page may embed the form (its origin is in
    /// embed.allowed_origins), what the configuration allows, and the exact
    /// line to add when it may not. Fetches nothing.
    #[command(after_help = "Examples:
  handoff-gate embed check https://www.example.com/contact
  handoff-gate embed check https://example.com -c /etc/handoff-gate.toml

Browsers compare origins exactly: https://example.com, https://www.example.com
and http://example.com are three different sites. List each one the page
is served from.

Exit status: 0 when the page may embed the form; 1 when it may not; 2 when
the address or the configuration cannot be read.")]
    Check(CheckArgs),
}

/// Options of `embed check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The configuration to read.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The address of the page that embeds the form (or just its origin),
    /// e.g. https://www.example.com/contact.
    pub page: String,
}

/// Run `embed check`.
pub fn run(cmd: &EmbedCommand) -> anyhow::Result<ExitCode> {
    let EmbedCommand::Check(args) = cmd;
    let origin = match page_origin(&args.page) {
        Ok(origin) => origin,
        Err(message) => {
            eprintln!("handoff-gate: {message}");
            return Ok(ExitCode::from(2));
        }
    };
    let config = match Config::load(args.config.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("handoff-gate: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let file = args
        .config
        .config
        .clone()
        .or_else(|| Some(PathBuf::from(config::DEFAULT_FILE)).filter(|p| p.exists()));
    let report = Report::new(&config, origin, file);
    write!(io::stdout(), "{report}")?;
    Ok(if report.allowed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The origin of a page address, as browsers send it (lower-case host,
/// internationalised names encoded, default port left out).
fn page_origin(page: &str) -> Result<Origin, String> {
    let url = url::Url::parse(page.trim()).map_err(|e| {
        format!("`{page}` is not a page address ({e}): give it whole, e.g. https://www.example.com/contact")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "`{page}` is not a web page: give an http:// or https:// address"
        ));
    }
    url.origin().ascii_serialization().parse()
}

/// What `embed check` finds out.
struct Report {
    origin: Origin,
    allowed: Vec<Origin>,
    file: Option<PathBuf>,
    line: Option<usize>,
    from_env: bool,
    gateway: String,
}

impl Report {
    fn new(config: &Config, origin: Origin, file: Option<PathBuf>) -> Self {
        const KEY: &str = "embed.allowed_origins";
        let line = file
            .as_ref()
            .and_then(|path| std::fs::read_to_string(path).ok())
            .and_then(|text| config::line_of(&text, KEY));
        let from_env = config::KEYS
            .iter()
            .find(|k| k.name == KEY)
            .is_some_and(|k| std::env::var_os(k.env()).is_some());
        Report {
            origin,
            allowed: config.embed.allowed_origins.clone(),
            file,
            line,
            from_env,
            gateway: config.server.public_url.as_deref().map_or_else(
                || format!("http://{}", config.server.listen),
                |url| url.trim_end_matches('/').to_owned(),
            ),
        }
    }

    fn allowed(&self) -> bool {
        self.allowed.contains(&self.origin)
    }

    /// The allowed list with this origin added, as the TOML value.
    fn with_origin(&self) -> String {
        let quoted: Vec<String> = self
            .allowed
            .iter()
            .chain([&self.origin])
            .map(|o| format!("\"{o}\""))
            .collect();
        format!("[{}]", quoted.join(", "))
    }

    /// Why an allowed origin that looks like this one does not count.
    fn near_misses(&self) -> Vec<String> {
        let (scheme, host) = split(&self.origin);
        self.allowed
            .iter()
            .filter_map(|other| {
                let (other_scheme, other_host) = split(other);
                let bare = |h: &str| h.strip_prefix("www.").unwrap_or(h).to_owned();
                let same_name = bare(strip_port(host)) == bare(strip_port(other_host));
                if !same_name {
                    None
                } else if scheme != other_scheme && host == other_host {
                    Some(format!("{other} is allowed, but {scheme}:// and {other_scheme}:// are different origins to a browser"))
                } else if strip_port(host) != strip_port(other_host) {
                    Some(format!("{other} is allowed, but {} and {} are different origins to a browser: list both if the site answers on both", strip_port(host), strip_port(other_host)))
                } else {
                    Some(format!("{other} is allowed, but the port differs: list the origin exactly as the page's address bar shows it"))
                }
            })
            .collect()
    }
}

fn split(origin: &Origin) -> (&str, &str) {
    origin
        .as_str()
        .split_once("://")
        .unwrap_or(("", origin.as_str()))
}

/// `shop.example:8080` → `shop.example` (`[::1]` stays whole).
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = if self.from_env {
            "from the environment".to_owned()
        } else {
            match (&self.file, self.line) {
                (Some(file), Some(line)) => format!("{}:{line}", file.display()),
                (Some(file), None) => format!("{}, not set there", file.display()),
                (None, _) => "the default: no site".to_owned(),
            }
        };
        let list: Vec<&str> = self.allowed.iter().map(Origin::as_str).collect();
        writeln!(f, "page origin:     {}", self.origin)?;
        writeln!(
            f,
            "allowed origins: {} ({source})",
            if list.is_empty() {
                "none".to_owned()
            } else {
                list.join(", ")
            }
        )?;
        writeln!(f)?;
        if self.allowed() {
            writeln!(f, "OK: {} may embed the form.", self.origin)?;
        } else {
            writeln!(
                f,
                "NOT ALLOWED: {} may not embed the form. Browsers show it a blank frame, and embed.js puts the link back.",
                self.origin
            )?;
            for miss in self.near_misses() {
                writeln!(f, "  {miss}.")?;
            }
            writeln!(f)?;
            let value = self.with_origin();
            let variable = format!(
                "{}EMBED__ALLOWED_ORIGINS={}",
                config::ENV_PREFIX,
                self.allowed
                    .iter()
                    .chain([&self.origin])
                    .map(Origin::as_str)
                    .collect::<Vec<_>>()
                    .join(",")
            );
            if self.from_env {
                writeln!(f, "Set the environment variable to:\n\n  {variable}\n")?;
            } else {
                match (&self.file, self.line) {
                    (Some(file), Some(line)) => writeln!(
                        f,
                        "Change line {line} of {} to:\n\n  allowed_origins = {value}\n",
                        file.display()
                    )?,
                    (file, _) => writeln!(
                        f,
                        "Add to {}:\n\n  [embed]\n  allowed_origins = {value}\n",
                        file.as_ref().map_or_else(
                            || config::DEFAULT_FILE.to_owned(),
                            |p| p.display().to_string()
                        )
                    )?,
                }
                writeln!(f, "or set it in the environment:\n\n  {variable}\n")?;
            }
            writeln!(f, "then restart the gateway.")?;
            writeln!(f)?;
        }
        writeln!(f, "On the page, where the form should appear:")?;
        writeln!(f)?;
        writeln!(
            f,
            "  <div id=\"contact\"><a href=\"{0}/\">Ask about a broken handoff</a></div>\n  <script src=\"{0}/embed.js\" data-target=\"#contact\" async></script>",
            self.gateway
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(allowed: &[&str], page: &str) -> Report {
        let mut config = Config::default();
        config.embed.allowed_origins = allowed.iter().map(|o| o.parse().unwrap()).collect();
        config.server.public_url = Some("https://gate.example.com/".to_owned());
        Report::new(&config, page_origin(page).unwrap(), None)
    }

    #[test]
    fn the_page_origin_is_the_browsers() {
        assert_eq!(
            page_origin("https://WWW.Shop.example:443/contact?x=1#f")
                .unwrap()
                .as_str(),
            "https://www.shop.example"
        );
        assert_eq!(
            page_origin("http://localhost:8000/").unwrap().as_str(),
            "http://localhost:8000"
        );
        assert_eq!(
            page_origin("https://bücher.example/").unwrap().as_str(),
            "https://xn--bcher-kva.example"
        );
        assert!(page_origin("shop.example").is_err());
        assert!(page_origin("ftp://shop.example/").is_err());
    }

    #[test]
    fn a_refused_page_gets_the_line_to_add_and_the_near_miss() {
        let text = report(
            &["https://shop.example"],
            "https://www.shop.example/contact",
        )
        .to_string();
        assert!(
            text.contains("NOT ALLOWED: https://www.shop.example"),
            "{text}"
        );
        assert!(
            text.contains(
                "allowed_origins = [\"https://shop.example\", \"https://www.shop.example\"]"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "HANDOFF_GATE__EMBED__ALLOWED_ORIGINS=https://shop.example,https://www.shop.example"
            ),
            "{text}"
        );
        assert!(
            text.contains("www.shop.example and shop.example are different origins"),
            "{text}"
        );
        assert!(
            text.contains("<script src=\"https://gate.example.com/embed.js\""),
            "{text}"
        );

        let text = report(&["https://shop.example"], "http://shop.example/").to_string();
        assert!(
            text.contains("http:// and https:// are different origins"),
            "{text}"
        );
    }

    #[test]
    fn an_allowed_page_is_ok() {
        let checked = report(&["https://shop.example"], "https://shop.example/contact");
        assert!(checked.allowed());
        assert!(
            checked
                .to_string()
                .contains("OK: https://shop.example may embed the form.")
        );
    }
}
