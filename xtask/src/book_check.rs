//! `cargo xtask book --check`'s browser pass: every page of the built book opened in
//! headless Chromium, as a reader would see it.
//!
//! The static checks of `book.rs` read the HTML text; this pass sees what only a
//! browser sees: an image that does not load or cannot be drawn (a wrong path, a
//! corrupt SVG), KaTeX's error spans, a stylesheet or font file that is missing, a
//! script that throws, and any request that would leave the machine.
//!
//! 1. Debian's `chromium` must be at [`CHROMIUM`] and Node.js 18 or newer on PATH.
//! 2. `playwright-core`, the library that drives the browser (pinned, with its
//!    integrity hash, in xtask/book-check/package-lock.json), is installed once with
//!    `npm ci` into target/book-check/node/. It never downloads a browser of its own.
//! 3. xtask/book-check/check.mjs serves the built book on 127.0.0.1, opens each page
//!    of SUMMARY.md, aborts (and records) every request not to that server before it
//!    is sent, takes a full-page screenshot into target/book-check/screenshots/, and
//!    writes a JSON report, which is read back here and printed one problem a line.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use serde_json::Value;

/// Where Debian's `chromium` package puts the browser.
pub const CHROMIUM: &str = "/usr/bin/chromium";
/// check.mjs with its package.json and package-lock.json, relative to the root.
const SCRIPT_DIR: &str = "xtask/book-check";
/// playwright-core 1.61 runs on Node.js 18 (`engines` in its package.json), the
/// version Debian 12 ships; later playwright-core releases need 20.
const NODE_MAJOR_MIN: u32 = 18;

/// What the browser found on one page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageResult {
    /// The page, relative to the built book (`linreg.html`).
    pub page: String,
    /// Distinct image files shown (mdBook writes each figure twice).
    pub images: usize,
    /// Rendered math expressions (`.katex` elements).
    pub math: usize,
    pub screenshot: PathBuf,
    pub problems: Vec<Problem>,
}

/// One thing wrong with a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// `broken-image`, `katex-error`, `stylesheet`, `font`, `network`,
    /// `http-error`, `request-failed`, `script-error` or `load` (the page never
    /// finished loading).
    pub kind: String,
    pub detail: String,
}

/// The browser pass over the real book: the pages of book/src/SUMMARY.md in the
/// book built at book/book/, failing when any page has a problem.
pub fn run(root: &Path) -> Result<()> {
    let summary_path = root.join("book").join("src").join("SUMMARY.md");
    let summary =
        fs::read_to_string(&summary_path).with_context(|| format!("reading {}", summary_path.display()))?;
    let pages = pages_from_summary(&summary);
    if pages.is_empty() {
        bail!("{} links no pages", summary_path.display());
    }
    let work = root.join("target").join("book-check");
    let results = check(root, &root.join("book").join("book"), &pages, &work)?;

    let problems: usize = results.iter().map(|r| r.problems.len()).sum();
    for result in &results {
        for problem in &result.problems {
            eprintln!("book: {}: {} ({})", result.page, problem.detail, problem.kind);
        }
    }
    if problems > 0 {
        bail!("the browser found {problems} problem(s) in the book (listed above)");
    }
    let images: usize = results.iter().map(|r| r.images).sum();
    let math: usize = results.iter().map(|r| r.math).sum();
    println!(
        "book: {} pages checked in Chromium: {images} images drawn, {math} math expressions, \
         no failed or outside requests; screenshots in {}",
        results.len(),
        work.join("screenshots").display()
    );
    Ok(())
}

/// Opens `pages` (paths relative to `book_out`, the built HTML) in headless
/// Chromium; screenshots go to `work`/screenshots/ (emptied first) and the report
/// to `work`/report.json. Fails only when the check itself cannot run.
pub fn check(root: &Path, book_out: &Path, pages: &[String], work: &Path) -> Result<Vec<PageResult>> {
    let (chromium, modules) = browser(root)?;

    let screenshots = work.join("screenshots");
    if screenshots.exists() {
        fs::remove_dir_all(&screenshots).with_context(|| format!("removing {}", screenshots.display()))?;
    }
    let report = work.join("report.json");
    if report.exists() {
        fs::remove_file(&report).with_context(|| format!("removing {}", report.display()))?;
    }
    fs::create_dir_all(work).with_context(|| format!("creating {}", work.display()))?;

    println!("book: opening {} page(s) in {}", pages.len(), chromium.display());
    let status = Command::new("node")
        .arg(root.join(SCRIPT_DIR).join("check.mjs"))
        .arg("--modules")
        .arg(&modules)
        .arg("--book")
        .arg(book_out)
        .arg("--screenshots")
        .arg(&screenshots)
        .arg("--report")
        .arg(&report)
        .arg("--chromium")
        .arg(&chromium)
        .args(pages)
        .current_dir(root)
        .status()
        .context("running `node xtask/book-check/check.mjs`")?;
    if !status.success() {
        bail!("the browser check could not run ({status}); its error is above");
    }
    let text = fs::read_to_string(&report).with_context(|| format!("reading {}", report.display()))?;
    parse_report(&text).with_context(|| format!("in {}", report.display()))
}

/// The pages SUMMARY.md links, as the HTML files mdBook makes of them, in order.
/// Draft chapters (`[Title]()`) have no page; `README.md` becomes `index.html`.
pub fn pages_from_summary(summary: &str) -> Vec<String> {
    let mut pages: Vec<String> = Vec::new();
    for line in summary.lines() {
        let mut rest = line;
        while let Some(start) = rest.find("](") {
            let after = &rest[start + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split('#').next().unwrap_or("").trim();
            if let Some(stem) = target.strip_suffix(".md") {
                let html = match stem.rsplit_once('/') {
                    Some((dir, "README")) => format!("{dir}/index.html"),
                    None if stem == "README" => "index.html".to_owned(),
                    _ => format!("{stem}.html"),
                };
                if !pages.contains(&html) {
                    pages.push(html);
                }
            }
            rest = &after[end..];
        }
    }
    pages
}

/// Reads check.mjs's report: `{ "pages": [ { "page", "images", "math",
/// "screenshot", "problems": [ { "kind", "detail" } ] } ] }`.
pub fn parse_report(text: &str) -> Result<Vec<PageResult>> {
    let json: Value = serde_json::from_str(text).context("the report is not JSON")?;
    let string = |value: &Value, key: &str| {
        value[key].as_str().map(str::to_owned).with_context(|| format!("`{key}` is not a string"))
    };
    let count = |value: &Value, key: &str| {
        value[key].as_u64().map(|n| n as usize).with_context(|| format!("`{key}` is not a count"))
    };
    let pages = json["pages"].as_array().context("`pages` is not a list")?;
    pages
        .iter()
        .map(|page| {
            let problems = page["problems"].as_array().context("`problems` is not a list")?;
            Ok(PageResult {
                page: string(page, "page")?,
                images: count(page, "images")?,
                math: count(page, "math")?,
                screenshot: PathBuf::from(string(page, "screenshot")?),
                problems: problems
                    .iter()
                    .map(|p| Ok(Problem { kind: string(p, "kind")?, detail: string(p, "detail")? }))
                    .collect::<Result<_>>()?,
            })
        })
        .collect()
}

/// Debian's chromium and the node_modules holding playwright-core (installed on
/// first use), after checking that Node.js is new enough: what a Playwright script
/// of xtask needs.
pub fn browser(root: &Path) -> Result<(PathBuf, PathBuf)> {
    let chromium = find_chromium()?;
    check_node()?;
    Ok((chromium, ensure_playwright(root)?))
}

fn find_chromium() -> Result<PathBuf> {
    let path = PathBuf::from(CHROMIUM);
    if path.is_file() {
        return Ok(path);
    }
    bail!(
        "{CHROMIUM} not found: the browser check needs Debian's chromium package \
         (`apt-get install chromium`)"
    )
}

/// Node.js on PATH, new enough for playwright-core.
fn check_node() -> Result<()> {
    let output = match Command::new("node").arg("--version").output() {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => bail!(
            "node is not on PATH: the browser check runs on Node.js {NODE_MAJOR_MIN} or newer \
             (`apt-get install nodejs npm`)"
        ),
        Err(e) => return Err(e).context("running `node --version`"),
    };
    let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    match node_major(&version) {
        Some(major) if major >= NODE_MAJOR_MIN => Ok(()),
        _ => bail!(
            "node reports version `{version}`; the browser check needs Node.js {NODE_MAJOR_MIN} or newer"
        ),
    }
}

/// The major version of `v20.20.2`.
pub fn node_major(version: &str) -> Option<u32> {
    version.trim().strip_prefix('v')?.split('.').next()?.parse().ok()
}

/// Installs playwright-core from the committed lock file into
/// target/book-check/node/ unless that exact lock was installed already; returns
/// the node_modules directory.
fn ensure_playwright(root: &Path) -> Result<PathBuf> {
    let scripts = root.join(SCRIPT_DIR);
    let lock =
        fs::read(scripts.join("package-lock.json")).context("reading xtask/book-check/package-lock.json")?;
    let dir = root.join("target").join("book-check").join("node");
    let modules = dir.join("node_modules");
    // Written after a successful `npm ci`: the lock it installed.
    let stamp = dir.join("installed-lock.json");
    if fs::read(&stamp).is_ok_and(|installed| installed == lock)
        && modules.join("playwright-core").join("package.json").is_file()
    {
        return Ok(modules);
    }

    println!("book: installing playwright-core with `npm ci` (once; kept in target/book-check/node/)");
    fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    for file in ["package.json", "package-lock.json"] {
        let bytes = fs::read(scripts.join(file)).with_context(|| format!("reading {SCRIPT_DIR}/{file}"))?;
        dlcore::atomic_file::write_bytes(&dir.join(file), &bytes)?;
    }
    let status = match Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .current_dir(&dir)
        .status()
    {
        Ok(status) => status,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            bail!("npm is not on PATH: it installs playwright-core once (`apt-get install npm`)")
        }
        Err(e) => return Err(e).context("running `npm ci`"),
    };
    if !status.success() {
        bail!("`npm ci` in {} failed ({status}): is the npm registry reachable?", dir.display());
    }
    dlcore::atomic_file::write_bytes(&stamp, &lock)?;
    Ok(modules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_pages_become_html_files_in_order() {
        let summary = "# Summary\n\n[Preface](preface.md)\n\n- [Linear regression](linreg.md)\n  \
                       - [Sub](part/README.md)\n- [Draft]()\n- [Again](linreg.md#the-model)\n\
                       [Intro](README.md) and [two](a.md) [links](b/c.md)\n";
        assert_eq!(
            pages_from_summary(summary),
            ["preface.html", "linreg.html", "part/index.html", "index.html", "a.html", "b/c.html"]
        );
    }

    #[test]
    fn the_books_summary_has_every_chapter() {
        let summary = include_str!("../../book/src/SUMMARY.md");
        let pages = pages_from_summary(summary);
        assert!(pages.len() >= 7, "{pages:?}");
        assert!(pages.contains(&"backprop-graph.html".to_owned()));
    }

    #[test]
    fn node_versions_are_parsed() {
        assert_eq!(node_major("v20.20.2\n"), Some(20));
        assert_eq!(node_major("v18.0.0"), Some(18));
        assert_eq!(node_major("20.1"), None);
    }

    /// Builds the fixture book of xtask/book-check/fixture/ with the real mdbook,
    /// mdbook-katex and the project's book.toml and theme into `work`/book/, with
    /// network.md pointed at `trap_origin`.
    fn build_fixture(root: &Path, work: &Path, trap_origin: &str) -> PathBuf {
        crate::book::prepare(root).expect("the book's tools and KaTeX assets");
        let book = work.join("book");
        if book.exists() {
            fs::remove_dir_all(&book).unwrap();
        }
        let src = book.join("src");
        copy_tree(&root.join(SCRIPT_DIR).join("fixture"), &src);
        copy_tree(&root.join("book").join("src").join("katex"), &src.join("katex"));
        copy_tree(&root.join("book").join("theme"), &book.join("theme"));
        fs::copy(root.join("book").join("book.toml"), book.join("book.toml")).unwrap();
        let network = src.join("network.md");
        let text = fs::read_to_string(&network).unwrap().replace("TRAP_ORIGIN", trap_origin);
        fs::write(&network, text).unwrap();
        crate::book::build(&book).expect("mdbook builds the fixture");
        book.join("book")
    }

    fn copy_tree(from: &Path, to: &Path) {
        fs::create_dir_all(to).unwrap();
        for entry in fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let dest = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy_tree(&path, &dest);
            } else {
                fs::copy(&path, &dest).unwrap();
            }
        }
    }

    // Ignored in `cargo test --workspace` (it needs a browser and the book's tools);
    // .ci/run installs them and runs it with `cargo test -p xtask -- --ignored`.
    // Without chromium it fails: `check` returns an error, never an empty report.
    #[test]
    #[ignore = "needs chromium, Node.js with npm, mdbook and mdbook-katex; .ci/run runs it with --ignored"]
    fn the_browser_check_reports_each_planted_problem_and_passes_the_clean_page() {
        let root = crate::workspace_root();
        let work = root.join("target").join("book-check").join("fixture");
        // Anything the page sends here was not stopped; nothing must arrive.
        let trap = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        trap.set_nonblocking(true).unwrap();
        let trap_origin = format!("http://{}", trap.local_addr().unwrap());
        let book_out = build_fixture(&root, &work, &trap_origin);

        let summary = fs::read_to_string(root.join(SCRIPT_DIR).join("fixture").join("SUMMARY.md")).unwrap();
        let pages = pages_from_summary(&summary);
        let results = check(&root, &book_out, &pages, &work).expect("the browser check runs");
        match trap.accept() {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!("a request reached the trap listener, so it was sent: {other:?}"),
        }
        assert_eq!(results.iter().map(|r| r.page.as_str()).collect::<Vec<_>>(), pages);
        let page = |name: &str| results.iter().find(|r| r.page == name).unwrap();
        let has = |name: &str, kind: &str, needle: &str| {
            page(name).problems.iter().any(|p| p.kind == kind && p.detail.contains(needle))
        };

        let clean = page("clean.html");
        assert_eq!(clean.problems, [], "the clean page must pass");
        assert_eq!(clean.images, 1);
        assert!(clean.math >= 2, "math rendered: {}", clean.math);
        for result in &results {
            assert!(result.screenshot.is_file(), "no screenshot {}", result.screenshot.display());
        }

        assert!(
            has("broken-image.html", "broken-image", "figures/missing.svg"),
            "{:?}",
            page("broken-image.html")
        );
        assert!(has("broken-image.html", "http-error", "figures/missing.svg answered 404"));

        assert!(has("broken-formula.html", "katex-error", "ParseError"), "{:?}", page("broken-formula.html"));
        assert_eq!(page("broken-formula.html").problems.len(), 1, "{:?}", page("broken-formula.html"));

        assert!(
            has("missing-style.html", "http-error", "stylesheet missing.css answered 404"),
            "{:?}",
            page("missing-style.html")
        );
        assert!(has("missing-style.html", "font", "Nowhere Sans"));
        assert!(has("missing-style.html", "http-error", "font fonts/nowhere.woff2 answered 404"));

        for url in ["/katex.min.css", "/far.woff2", "/figure.png"] {
            assert!(
                has("network.html", "network", &format!("{trap_origin}{url}")),
                "{url}: {:?}",
                page("network.html")
            );
        }
        assert!(has("network.html", "network", "https://cdn.example.invalid/mathjax.js"));
    }

    #[test]
    fn a_report_is_read_back() {
        let text = r#"{"origin": "http://127.0.0.1:1", "pages": [
            {"page": "a.html", "images": 2, "math": 5, "screenshot": "s/a.png",
             "problems": [{"kind": "katex-error", "detail": "ParseError in \\frac{"}]}]}"#;
        let pages = parse_report(text).unwrap();
        assert_eq!(pages.len(), 1);
        assert_eq!((pages[0].images, pages[0].math), (2, 5));
        assert_eq!(pages[0].problems[0].kind, "katex-error");
        assert!(parse_report(r#"{"pages": [{"page": "a.html"}]}"#).is_err());
        assert!(parse_report("not json").is_err());
    }
}
