//! The markdown table, and process measurements (resident memory, CPU time) read from /proc.

pub struct Row {
    pub scenario: &'static str,
    pub backend: &'static str,
    pub tether: String,
    pub ceiling: String,
    pub ratio: Option<f64>,
    pub p50: String,
    pub p99: String,
    pub target: &'static str,
    pub met: Option<bool>,
    /// Peak resident memory of the process during Tether's run.
    pub peak_rss_mb: f64,
}

pub fn table(rows: &[Row], quick: bool) -> String {
    let mut out = String::new();
    if quick {
        out.push_str("_quick run: small sizes, figures not comparable with a full run_\n\n");
    }
    out.push_str("| scenario | backend | Tether | ceiling | ratio | p50 | p99 | peak RSS | target | met |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|\n");
    for row in rows {
        let ratio = row.ratio.map_or("–".into(), |r| format!("{:.0}%", r * 100.0));
        let met = match row.met {
            Some(true) => "yes",
            Some(false) => "no",
            None => "–",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {ratio} | {} | {} | {:.0} MB | {} | {met} |\n",
            row.scenario, row.backend, row.tether, row.ceiling, row.p50, row.p99, row.peak_rss_mb, row.target,
        ));
    }
    out
}

fn status_kb(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

/// Starts a new peak-memory measurement (Linux: writing 5 to clear_refs resets VmHWM).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

pub fn peak_rss_mb() -> f64 {
    status_kb("VmHWM:") / 1024.0
}

pub fn rss_mb() -> f64 {
    status_kb("VmRSS:") / 1024.0
}

/// CPU seconds (user + system) this process has used.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of /proc/pid/stat, i.e. 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

pub fn percentile(sorted_ms: &[f64], p: f64) -> String {
    if sorted_ms.is_empty() {
        return "–".into();
    }
    let index = ((sorted_ms.len() as f64 - 1.0) * p).round() as usize;
    format!("{:.1} ms", sorted_ms[index])
}
