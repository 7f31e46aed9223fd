//! Progress bars for long loops. They draw on stderr only when it is a terminal, so
//! logs and CI output stay clean.

use indicatif::{ProgressBar, ProgressStyle};

/// A bar over `total` items (examples, steps), showing the rate and the time left.
pub fn items(total: u64, label: &str) -> ProgressBar {
    styled(total, label, "{prefix} [{bar:30}] {pos}/{len} {per_sec} ETA {eta}")
}

/// A bar over `total` bytes of a download.
pub fn bytes(total: u64, label: &str) -> ProgressBar {
    styled(total, label, "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}")
}

fn styled(total: u64, label: &str, template: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    // `ProgressBar::new` draws to stderr and hides itself when stderr is not a terminal.
    ProgressBar::new(total).with_style(style).with_prefix(label.to_string())
}
