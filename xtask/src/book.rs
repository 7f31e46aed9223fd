//! `cargo xtask book`: builds the mdBook in book/ into book/book/ and checks that it
//! reads offline; `cargo xtask book --check` then opens it in a browser too.
//!
//! 1. `mdbook` and `mdbook-katex` must be on PATH at the versions pinned in
//!    book/tools.env (otherwise: one line with the `cargo install` command).
//! 2. KaTeX's stylesheet and fonts are put in book/src/katex/ (git-ignored, not
//!    committed: they are third-party files) from the npm package `katex` of the
//!    version mdbook-katex renders with, fetched once with `npm pack` into
//!    target/katex/ and checked against its pinned sha256.
//! 3. Every `{{#include file:anchor}}` of the book names a file that exists and an
//!    anchor that file defines (mdBook silently includes nothing for an unknown
//!    anchor), then `mdbook build book`, failing on any error mdBook logs (a missing
//!    file is only logged by mdBook, not fatal).
//! 4. The HTML is verified: math was rendered at build time (`class="katex"`), no
//!    KaTeX error, every page with math links the book's own stylesheet, and no page
//!    loads a stylesheet or script from the network. These checks read the HTML text
//!    and need no browser.
//! 5. With `--check` only: every page of SUMMARY.md is opened in headless Chromium
//!    (`book_check`), which fails on what only a browser sees (an image that does
//!    not draw, a stylesheet or font that does not load, any request off the
//!    machine) and saves a screenshot of each page under target/book-check/.

use std::collections::BTreeMap;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// Where the tool versions are pinned, relative to the workspace root.
const PINS_FILE: &str = "book/tools.env";
/// Written last into book/src/katex/: the KaTeX version the assets came from.
const KATEX_STAMP: &str = "katex-version.txt";

/// Builds and verifies the book; with `browser_check`, then opens every chapter
/// in headless Chromium (`book_check`).
pub fn run(root: &Path, browser_check: bool) -> Result<()> {
    prepare(root)?;
    check_includes(&root.join("book").join("src"))?;
    build(&root.join("book"))?;
    verify(&root.join("book").join("book"))?;
    if browser_check {
        crate::book_check::run(root)?;
    }
    Ok(())
}

/// The pinned tools are installed and KaTeX's assets are in book/src/katex/:
/// what any mdBook build with the project's book.toml needs.
pub fn prepare(root: &Path) -> Result<()> {
    let pins = Pins::read(&root.join(PINS_FILE))?;
    check_tools(&pins)?;
    ensure_katex_assets(root, &pins)
}

/// The versions of book/tools.env.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pins {
    pub mdbook: String,
    pub mdbook_katex: String,
    pub katex: String,
    pub katex_tgz_sha256: String,
}

impl Pins {
    fn read(path: &Path) -> Result<Self> {
        let text = fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        Self::parse(&text).with_context(|| format!("in {}", path.display()))
    }

    /// Parses `KEY=value` lines; blank lines and `#` comments are skipped.
    pub fn parse(text: &str) -> Result<Self> {
        let mut values = BTreeMap::new();
        for (number, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once('=') else {
                bail!("line {}: expected KEY=value, got `{line}`", number + 1);
            };
            values.insert(key.trim().to_owned(), value.trim().trim_matches('"').to_owned());
        }
        let mut take = |key: &str| {
            values.remove(key).filter(|v| !v.is_empty()).with_context(|| format!("{key} is not set"))
        };
        Ok(Pins {
            mdbook: take("MDBOOK_VERSION")?,
            mdbook_katex: take("MDBOOK_KATEX_VERSION")?,
            katex: take("KATEX_VERSION")?,
            katex_tgz_sha256: take("KATEX_TGZ_SHA256")?.to_ascii_lowercase(),
        })
    }
}

/// The version at the end of `mdbook v0.5.4` or `mdbook-katex 0.10.0`.
pub fn version_from_output(output: &str) -> Option<&str> {
    let last = output.split_whitespace().last()?;
    let version = last.strip_prefix('v').unwrap_or(last);
    version.starts_with(|c: char| c.is_ascii_digit()).then_some(version)
}

/// Both tools on PATH at their pinned versions, or one line saying what to install.
fn check_tools(pins: &Pins) -> Result<()> {
    let mut wrong = Vec::new();
    for (tool, pinned) in [("mdbook", &pins.mdbook), ("mdbook-katex", &pins.mdbook_katex)] {
        let found = match Command::new(tool).arg("--version").output() {
            Ok(out) => {
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                version_from_output(&text).map(str::to_owned)
            }
            Err(e) if e.kind() == ErrorKind::NotFound => None,
            Err(e) => return Err(e).with_context(|| format!("running `{tool} --version`")),
        };
        match found {
            Some(version) if &version == pinned => println!("book: {tool} {version}"),
            Some(version) => {
                wrong.push((format!("{tool} {version} is installed but {pinned} is pinned"), tool, pinned))
            }
            None => wrong.push((format!("{tool} is not on PATH"), tool, pinned)),
        }
    }
    if wrong.is_empty() {
        return Ok(());
    }
    let what: Vec<&str> = wrong.iter().map(|(what, _, _)| what.as_str()).collect();
    let crates: Vec<String> = wrong.iter().map(|(_, tool, pinned)| format!("{tool}@{pinned}")).collect();
    bail!("{} ({PINS_FILE}): run `cargo install --locked {}`", what.join(" and "), crates.join(" "))
}

/// Makes sure book/src/katex/ holds katex.min.css and fonts/ of the pinned KaTeX.
fn ensure_katex_assets(root: &Path, pins: &Pins) -> Result<()> {
    let dest = root.join("book").join("src").join("katex");
    let stamp = fs::read_to_string(dest.join(KATEX_STAMP)).unwrap_or_default();
    if stamp.trim() == pins.katex && dest.join("katex.min.css").is_file() && has_files(&dest.join("fonts")) {
        println!("book: KaTeX {} stylesheet and fonts in book/src/katex/", pins.katex);
        return Ok(());
    }

    let cache = root.join("target").join("katex");
    fs::create_dir_all(&cache).with_context(|| format!("creating {}", cache.display()))?;
    let tgz = cache.join(format!("katex-{}.tgz", pins.katex));
    if !tgz.is_file() || sha256_hex(&tgz)? != pins.katex_tgz_sha256 {
        npm_pack(&cache, &pins.katex)?;
    }
    let digest = sha256_hex(&tgz)?;
    if digest != pins.katex_tgz_sha256 {
        let _ = fs::remove_file(&tgz);
        bail!(
            "{} has sha256 {digest}, but {PINS_FILE} pins {}; refusing to use it",
            tgz.display(),
            pins.katex_tgz_sha256
        );
    }

    let staging = cache.join(format!("extract-{}", pins.katex));
    if staging.exists() {
        fs::remove_dir_all(&staging).with_context(|| format!("removing {}", staging.display()))?;
    }
    fs::create_dir_all(&staging).with_context(|| format!("creating {}", staging.display()))?;
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tgz)
        .arg("-C")
        .arg(&staging)
        .args(["package/dist/katex.min.css", "package/dist/fonts", "package/LICENSE"])
        .status()
        .context("running `tar` to unpack KaTeX")?;
    if !status.success() {
        bail!("`tar -xzf {}` failed ({status})", tgz.display());
    }

    // The stamp goes in last, so an interrupted copy is redone on the next run.
    if dest.exists() {
        fs::remove_dir_all(&dest).with_context(|| format!("removing {}", dest.display()))?;
    }
    let package = staging.join("package");
    copy_dir(&package.join("dist").join("fonts"), &dest.join("fonts"))?;
    copy_file(&package.join("dist").join("katex.min.css"), &dest.join("katex.min.css"))?;
    copy_file(&package.join("LICENSE"), &dest.join("LICENSE"))?;
    dlcore::atomic_file::write_bytes(&dest.join(KATEX_STAMP), format!("{}\n", pins.katex).as_bytes())?;
    println!("book: copied KaTeX {} stylesheet and fonts into book/src/katex/", pins.katex);
    Ok(())
}

fn npm_pack(cache: &Path, version: &str) -> Result<()> {
    let spec = format!("katex@{version}");
    println!("book: fetching {spec} with `npm pack` (once; kept in target/katex/)");
    let status = match Command::new("npm")
        .args(["pack", "--silent", &spec])
        .current_dir(cache)
        .stdout(std::process::Stdio::null())
        .status()
    {
        Ok(status) => status,
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(
            "npm is not on PATH: it is needed once to fetch KaTeX's stylesheet and fonts ({spec}); \
             install Node.js with npm and run `cargo xtask book` again"
        ),
        Err(e) => return Err(e).context("running `npm pack`"),
    };
    if !status.success() {
        bail!("`npm pack {spec}` failed ({status}): is the npm registry reachable?");
    }
    Ok(())
}

fn sha256_hex(path: &Path) -> Result<String> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect())
}

fn has_files(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_some())
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    let bytes = fs::read(from).with_context(|| format!("reading {}", from.display()))?;
    dlcore::atomic_file::write_bytes(to, &bytes)?;
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let path = entry?.path();
        if path.is_file()
            && let Some(name) = path.file_name()
        {
            copy_file(&path, &to.join(name))?;
        }
    }
    Ok(())
}

/// Every include directive of the book points at an existing file and, when it
/// names an anchor, at an anchor that file defines.
fn check_includes(book_src: &Path) -> Result<()> {
    let mut problems = Vec::new();
    let mut count = 0;
    for page in crate::plots::markdown_pages(book_src)? {
        let text =
            fs::read_to_string(book_src.join(&page)).with_context(|| format!("reading book/src/{page}"))?;
        let page_dir = page.rsplit_once('/').map_or("", |(dir, _)| dir);
        for include in text.lines().flat_map(crate::plots::includes) {
            count += 1;
            let file = book_src.join(page_dir).join(&include.path);
            let Ok(source) = fs::read_to_string(&file) else {
                problems.push(format!("book/src/{page} includes {}, which does not exist", include.path));
                continue;
            };
            if let Some(anchor) = include.selector.as_deref().filter(|s| is_anchor_name(s))
                && !has_anchor(&source, anchor)
            {
                problems.push(format!(
                    "book/src/{page} includes {}:{anchor}, but that file has no `ANCHOR: {anchor}` … \
                     `ANCHOR_END: {anchor}` pair",
                    include.path
                ));
            }
        }
    }
    if problems.is_empty() {
        println!("book: {count} includes, every file and anchor found");
        return Ok(());
    }
    for problem in &problems {
        eprintln!("book: {problem}");
    }
    bail!("{} broken include(s) in the book (listed above)", problems.len())
}

/// An include selector is an anchor unless it is a line range such as `3`, `3:10`
/// or `:10`.
fn is_anchor_name(selector: &str) -> bool {
    !selector.chars().all(|c| c.is_ascii_digit() || c == ':')
}

/// Whether `source` has both `ANCHOR: name` and `ANCHOR_END: name` markers, matched
/// as mdBook matches them (the name is the word after the colon).
pub fn has_anchor(source: &str, name: &str) -> bool {
    let marked = |marker: &str| {
        source.lines().any(|line| {
            line.split(marker).skip(1).any(|after| {
                let word: String = after
                    .trim_start()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                word == name
            })
        })
    };
    marked("ANCHOR:") && marked("ANCHOR_END:")
}

/// `mdbook build <book_dir>`, passing its log through and failing on any logged
/// error.
pub fn build(book_dir: &Path) -> Result<()> {
    println!("book: mdbook build {}", book_dir.display());
    let output =
        Command::new("mdbook").arg("build").arg(book_dir).output().context("running `mdbook build`")?;
    let log =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    eprint!("{log}");
    if !output.status.success() {
        bail!("`mdbook build {}` failed ({})", book_dir.display(), output.status);
    }
    let errors = log.lines().filter(|line| is_error_line(line)).count();
    if errors > 0 {
        bail!("`mdbook build` logged {errors} error(s) (above), such as a missing include");
    }
    Ok(())
}

/// mdBook logs through `tracing`: ` ERROR mdbook_…: message` (older versions:
/// `[… ERROR (mdbook…)]`).
fn is_error_line(line: &str) -> bool {
    strip_ansi(line).split_whitespace().take(4).any(|word| word.trim_matches(['[', ']']) == "ERROR")
}

/// `line` without terminal colour codes (`ESC [ … m`), which preprocessors may emit
/// even when their output is captured.
fn strip_ansi(line: &str) -> String {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
        } else {
            plain.push(c);
        }
    }
    plain
}

/// What one HTML page says about math and outside resources.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PageReport {
    /// Math expressions rendered by KaTeX (`class="katex"` elements).
    pub katex: usize,
    /// KaTeX parse errors left in the page.
    pub katex_errors: usize,
    /// The page's link to a KaTeX stylesheet, if any.
    pub katex_stylesheet: Option<String>,
    /// Stylesheets and scripts loaded from the network.
    pub remote: Vec<String>,
}

/// Reads the `<link href>` and `<script src>` tags and counts rendered math.
pub fn inspect_page(html: &str) -> PageReport {
    let mut report = PageReport {
        katex: html.matches("class=\"katex\"").count(),
        katex_errors: html.matches("katex-error").count(),
        ..PageReport::default()
    };
    for (tag, attribute) in [("<link", "href"), ("<script", "src")] {
        let mut rest = html;
        while let Some(start) = rest.find(tag) {
            let after = &rest[start + tag.len()..];
            let element = &after[..after.find('>').unwrap_or(after.len())];
            if let Some(url) = attribute_value(element, attribute) {
                let remote = ["http://", "https://", "//"].iter().any(|p| url.starts_with(p));
                if remote {
                    if !report.remote.iter().any(|seen| seen == url) {
                        report.remote.push(url.to_owned());
                    }
                } else if tag == "<link" && url.ends_with("katex.min.css") {
                    report.katex_stylesheet = Some(url.to_owned());
                }
            }
            rest = after;
        }
    }
    report
}

/// The value of `name="…"` (or `'…'`) inside a tag's text.
fn attribute_value<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let mut rest = element;
    while let Some(pos) = rest.find(name) {
        let before_ok = rest[..pos].ends_with(char::is_whitespace);
        let after = rest[pos + name.len()..].trim_start();
        if before_ok && let Some(value) = after.strip_prefix('=') {
            let value = value.trim_start();
            let quote = value.chars().next()?;
            if quote == '"' || quote == '\'' {
                return value[1..].split(quote).next();
            }
            return value.split(|c: char| c.is_whitespace()).next();
        }
        rest = &rest[pos + name.len()..];
    }
    None
}

/// Every page of the built book: math rendered, the stylesheet local and present,
/// nothing fetched from the network.
fn verify(out: &Path) -> Result<()> {
    let mut pages = Vec::new();
    collect_html(out, &mut pages)?;
    pages.sort();
    let mut problems = Vec::new();
    let mut math = 0;
    for page in &pages {
        let html = fs::read_to_string(page).with_context(|| format!("reading {}", page.display()))?;
        let report = inspect_page(&html);
        let shown = page.strip_prefix(out).unwrap_or(page).display().to_string();
        math += report.katex;
        for url in &report.remote {
            problems.push(format!("{shown} loads {url} from the network; the book must read offline"));
        }
        if report.katex_errors > 0 {
            problems.push(format!("{shown}: {} KaTeX error(s) in the rendered math", report.katex_errors));
        }
        if report.katex > 0 {
            match &report.katex_stylesheet {
                None => problems.push(format!("{shown} has math but no link to katex/katex.min.css")),
                Some(href) => {
                    let css = page.parent().unwrap_or(out).join(href);
                    if !css.is_file() {
                        problems.push(format!("{shown} links {href}, which is not in the built book"));
                    }
                }
            }
        }
    }
    if math == 0 {
        problems.push(
            "no page has math rendered at build time (no class=\"katex\" element): \
             is [preprocessor.katex] in book/book.toml?"
                .to_owned(),
        );
    }
    if !has_files(&out.join("katex").join("fonts")) {
        problems.push("katex/fonts/ is missing from the built book".to_owned());
    }
    if problems.is_empty() {
        println!(
            "book: {} pages, {math} math expressions rendered at build time, no network resources",
            pages.len()
        );
        println!("book: open {}", out.join("index.html").display());
        return Ok(());
    }
    for problem in &problems {
        eprintln!("book: {problem}");
    }
    bail!("the built book failed {} check(s) (listed above)", problems.len())
}

fn collect_html(dir: &Path, pages: &mut Vec<PathBuf>) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            collect_html(&path, pages)?;
        } else if path.extension().is_some_and(|e| e == "html") {
            pages.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pins_file_parses() {
        let text = include_str!("../../book/tools.env");
        let pins = Pins::parse(text).unwrap();
        assert!(version_from_output(&format!("mdbook v{}", pins.mdbook)).is_some());
        assert_eq!(pins.katex_tgz_sha256.len(), 64);
    }

    #[test]
    fn pins_need_every_key() {
        let err = Pins::parse("# c\nMDBOOK_VERSION=0.5.4\n").unwrap_err();
        assert!(err.to_string().contains("MDBOOK_KATEX_VERSION is not set"));
        assert!(Pins::parse("not a pair").is_err());
        let full = "MDBOOK_VERSION=1\nMDBOOK_KATEX_VERSION=2\nKATEX_VERSION=\"3\"\nKATEX_TGZ_SHA256=AB\n";
        let pins = Pins::parse(full).unwrap();
        assert_eq!((pins.katex.as_str(), pins.katex_tgz_sha256.as_str()), ("3", "ab"));
    }

    #[test]
    fn anchors_are_found_as_mdbook_finds_them() {
        let source = "x\n// ANCHOR: sigmoid\nfn s() {}\n// ANCHOR_END: sigmoid\n// ANCHOR:  two-words\n";
        assert!(has_anchor(source, "sigmoid"));
        assert!(!has_anchor(source, "sig"));
        assert!(!has_anchor(source, "two-words"), "no ANCHOR_END");
        assert!(is_anchor_name("sigmoid"));
        assert!(!is_anchor_name("3:10"));
        assert!(!is_anchor_name(":10"));
    }

    #[test]
    fn versions_are_read_from_both_tools() {
        assert_eq!(version_from_output("mdbook v0.5.4\n"), Some("0.5.4"));
        assert_eq!(version_from_output("mdbook-katex 0.10.0\n"), Some("0.10.0"));
        assert_eq!(version_from_output(""), None);
        assert_eq!(version_from_output("usage: mdbook"), None);
    }

    #[test]
    fn error_lines_are_recognised() {
        assert!(is_error_line(" ERROR mdbook_driver::links: Error updating \"{{#include x}}\""));
        assert!(is_error_line("2024-01-01 10:00:00 [ERROR] (mdbook::preprocess::links): x"));
        assert!(!is_error_line(" INFO mdbook_driver: Running the html backend"));
        assert!(is_error_line(
            "\u{1b}[2m2026-11-23T12:57:29Z\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m \u{1b}[2mmdbook_katex\u{1b}[0m: x"
        ));
        assert!(!is_error_line(
            "\u{1b}[2m2026-11-23T12:57:29Z\u{1b}[0m \u{1b}[33m WARN\u{1b}[0m mdbook_katex: x"
        ));
        assert!(!is_error_line("WARN something about an ERROR later in the line, far away"));
    }

    #[test]
    fn a_page_with_local_katex_passes() {
        let html = r#"<head><link rel="stylesheet" href="../katex/katex.min.css">
            <link rel="stylesheet" href="css/general.css"><script src="book.js"></script></head>
            <p><span class="katex-display"><span class="katex">x</span></span>
            <span class="katex">y</span></p>"#;
        let report = inspect_page(html);
        assert_eq!(report.katex, 2);
        assert_eq!(report.katex_errors, 0);
        assert_eq!(report.katex_stylesheet.as_deref(), Some("../katex/katex.min.css"));
        assert!(report.remote.is_empty());
    }

    #[test]
    fn a_cdn_stylesheet_or_script_is_caught() {
        let html = r#"<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/katex@0.16.4/dist/katex.min.css">
            <script src='//cdn.example.org/mathjax.js'></script><span class="katex">x</span>"#;
        let report = inspect_page(html);
        assert_eq!(
            report.remote,
            ["https://cdn.jsdelivr.net/npm/katex@0.16.4/dist/katex.min.css", "//cdn.example.org/mathjax.js"]
        );
        assert_eq!(report.katex_stylesheet, None);
    }

    #[test]
    fn unrendered_math_and_errors_are_counted() {
        assert_eq!(inspect_page("<p>$x^2$</p>").katex, 0);
        let html = r#"<span class="katex-error" title="ParseError">\frac{</span>"#;
        assert_eq!(inspect_page(html).katex_errors, 1);
    }

    #[test]
    fn attributes_are_read_with_either_quote() {
        assert_eq!(attribute_value(r#" rel="stylesheet" href="a.css""#, "href"), Some("a.css"));
        assert_eq!(attribute_value(" data-href='x' href='b.css'", "href"), Some("b.css"));
        assert_eq!(attribute_value(" href = c.css media=print", "href"), Some("c.css"));
        assert_eq!(attribute_value(" rel=stylesheet", "href"), None);
    }
}
