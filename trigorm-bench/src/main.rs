//! # trigorm-bench: the seed workload
//!
//! `cargo run --release -p trigorm-bench -- --rows 20000` runs the seed workload
//! (shared/bench/seed-workload.md): insert N users, rename every user, delete every other
//! id range of B users, one transaction per batch of B, every change recorded in `log` in
//! the same transaction, then reports the median over `--rounds` rounds of each variant.
//!
//! ## Variants
//! - `floor`: the same statements hand-written on rusqlite; the log row inserted by hand.
//!   It is the physical limit the ORM is held to (see `floor.rs` for its fairness rules:
//!   trigorm's pragmas, schema, statement texts, `BEGIN IMMEDIATE` batches, statements
//!   prepared once, the same values, timestamps stored as trigorm stores them).
//! - `listeners`: trigorm models and sessions; after-insert/update/delete listeners stage
//!   the `Log` row with `ctx.add` (see `listeners.rs`).
//! - `native`: trigorm with database-side triggers. They do not exist yet: reported as
//!   "not yet available", never as a number (`null` in the JSON).
//!
//! ## How it measures
//! Each run of a variant is a child process of this binary (`--child VARIANT --db FILE`,
//! hidden) on a fresh database file, so that its peak RSS (`VmHWM`) is its own. Schema
//! creation is not timed. Every round runs each variant once, back to back, in an order
//! that alternates from round to round (floor then listeners, then listeners then floor,
//! ...), so that a machine getting faster or slower during a round favours neither. The
//! parent verifies the end state of every run on a plain rusqlite connection
//! (`verify.rs`), and reports per variant the median of each phase, the median total and
//! the highest peak RSS, and two ratios to the floor: `ratio`, the median over rounds of
//! the variant's total divided by the floor's total *in the same round* (the two ran
//! within a second of each other, on the same machine state), and `ratio_of_medians`,
//! the median total divided by the floor's median total. On a quiet machine they agree;
//! on a noisy one (a VM whose speed drifts by 2x over seconds) the paired one is the
//! steadier reading. The output is a table, then one JSON line (`--json-only`: the JSON
//! line alone).
//!
//! `--memory-check` runs each variant once at N and once at 10 N and fails when the peak
//! RSS at 10 N exceeds twice the one at N: a session committing every B rows must not
//! grow with N. It bounds memory growth, never time; nothing here asserts a time.
//!
//! ## Exit codes
//! 0: success. 1: a run's end state is wrong, or the memory bound is exceeded.
//! 2: bad arguments (a clear message from clap), an unusable `--dir`, or a failed run.

mod floor;
mod listeners;
mod sys;
mod verify;
mod workload;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, ValueEnum};
use serde::Serialize;

use sys::WorkDir;
use verify::CheckFailed;
use workload::{Plan, Timings};

/// A variant that runs today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    Floor,
    Listeners,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Floor => "floor",
            Variant::Listeners => "listeners",
        }
    }
}

/// Which variants to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Floor,
    Listeners,
    All,
}

impl Which {
    fn variants(self) -> Vec<Variant> {
        match self {
            Which::Floor => vec![Variant::Floor],
            Which::Listeners => vec![Variant::Listeners],
            Which::All => vec![Variant::Floor, Variant::Listeners],
        }
    }
}

const MAX_ROWS: u64 = 10_000_000;
const MAX_ROUNDS: u64 = 1_000;
const MAX_BATCH: u64 = 10_000_000;
/// `--memory-check` fails when the peak RSS at 10 N exceeds this times the one at N.
const MEMORY_GROWTH_LIMIT: f64 = 2.0;

/// A parser for a positive whole number at most `max`, with a message that says so.
fn count(what: &'static str, max: u64) -> impl Fn(&str) -> Result<u64, String> + Clone + Send + Sync + 'static {
    move |s: &str| {
        let t = s.trim();
        let digits = t.strip_prefix(['-', '+']).unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("{what} must be a whole number from 1 to {max}, got {s:?}"));
        }
        if t.starts_with('-') {
            return Err(format!("{what} must be at least 1, got {t}"));
        }
        match digits.parse::<u64>() {
            Ok(0) => Err(format!("{what} must be at least 1, got 0")),
            Ok(v) if v <= max => Ok(v),
            _ => Err(format!("{what} must be at most {max}, got {t}")),
        }
    }
}

/// The seed-workload benchmark of trigorm: a hand-written rusqlite floor against trigorm
/// with audit listeners (native triggers: not yet available).
#[derive(Debug, Parser)]
#[command(name = "trigorm-bench", version)]
struct Args {
    /// Users to insert (N); users = N/2 and log = 2.5 N at the end when N is a multiple of 2B.
    #[arg(long, value_name = "N", default_value = "20000", allow_negative_numbers = true,
          value_parser = count("the row count", MAX_ROWS))]
    rows: u64,

    /// Rounds; the median of each variant is reported.
    #[arg(long, value_name = "R", default_value = "5", allow_negative_numbers = true,
          value_parser = count("the round count", MAX_ROUNDS))]
    rounds: u64,

    /// Rows per transaction (B).
    #[arg(long, value_name = "B", default_value = "1000", allow_negative_numbers = true,
          value_parser = count("the batch size", MAX_BATCH))]
    batch: u64,

    /// Where the database files go (created if missing; must be writable). Default: a
    /// fresh temporary directory, removed at the end.
    #[arg(long, value_name = "PATH")]
    dir: Option<PathBuf>,

    /// Which variants to run.
    #[arg(long, value_enum, default_value_t = Which::All)]
    variant: Which,

    /// Print only the JSON line.
    #[arg(long)]
    json_only: bool,

    /// Run each variant once at N and once at 10 N and compare their peak RSS; fail when
    /// 10 N needs more than twice the memory of N.
    #[arg(long)]
    memory_check: bool,

    /// Internal: run one variant in this process and print its timings as JSON.
    #[arg(long, value_enum, hide = true, requires = "db")]
    child: Option<Variant>,

    /// Internal: the database file of a --child run.
    #[arg(long, hide = true, requires = "child")]
    db: Option<PathBuf>,
}

impl Args {
    fn plan(&self) -> Plan {
        Plan {
            rows: self.rows,
            batch: self.batch,
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.child {
        Some(v) => child(v, &args),
        None => parent(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("trigorm-bench: error: {e:#}");
            if e.chain().any(|c| c.is::<CheckFailed>()) {
                ExitCode::from(1)
            } else {
                ExitCode::from(2)
            }
        }
    }
}

/// The child: run one variant on `--db` and print its timings as one JSON line.
fn child(v: Variant, args: &Args) -> Result<()> {
    let db = args.db.as_deref().context("--child needs --db")?;
    let plan = args.plan();
    let mut t = match v {
        Variant::Floor => floor::run(db, plan)?,
        Variant::Listeners => listeners::run(db, plan)?,
    };
    t.peak_rss_kib = sys::peak_rss_kib();
    println!("{}", serde_json::to_string(&t)?);
    Ok(())
}

/// Run `v` in a child process on a fresh `db`, then verify the end state and remove the
/// file.
fn run_variant(v: Variant, db: &Path, plan: Plan) -> Result<Timings> {
    sys::remove_db(db)?;
    let exe = std::env::current_exe().context("finding this program to run a variant")?;
    let out = Command::new(exe)
        .args([
            "--child",
            v.name(),
            "--rows",
            &plan.rows.to_string(),
            "--batch",
            &plan.batch.to_string(),
            "--db",
        ])
        .arg(db)
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("starting the {} run", v.name()))?;
    if !out.status.success() {
        bail!(
            "the {} run failed ({}): {}",
            v.name(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    let t: Timings =
        serde_json::from_str(line).with_context(|| format!("reading the {} run's report {line:?}", v.name()))?;
    verify::verify(db, plan).with_context(|| format!("{} variant, N = {}", v.name(), plan.rows))?;
    sys::remove_db(db)?;
    Ok(t)
}

/// The work directory, kept when the run fails so that the database can be inspected.
fn with_dir(args: &Args, f: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let mut dir = match &args.dir {
        Some(p) => WorkDir::given(p)?,
        None => WorkDir::fresh()?,
    };
    let r = f(dir.path());
    let failed_check = r.as_ref().is_err_and(|e| e.chain().any(|c| c.is::<CheckFailed>()));
    let has_files = std::fs::read_dir(dir.path()).is_ok_and(|mut d| d.next().is_some());
    if failed_check && has_files {
        dir.keep();
        eprintln!("trigorm-bench: the databases are kept in {}", dir.path().display());
    }
    r
}

fn parent(args: &Args) -> Result<()> {
    if args.db.is_some() {
        bail!("--db is only for --child runs");
    }
    with_dir(args, |dir| {
        if args.memory_check {
            memory_check(args, dir)
        } else {
            bench(args, dir)
        }
    })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

fn round_to(x: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    (x * k).round() / k
}

fn mib(kib: u64) -> f64 {
    round_to(kib as f64 / 1024.0, 1)
}

/// One variant's figures, as in the table and the JSON line.
#[derive(Debug, Clone, Serialize)]
struct Figures {
    insert_s: f64,
    update_s: f64,
    delete_s: f64,
    total_s: f64,
    /// The median over rounds of this total / the floor's total in the same round.
    ratio: Option<f64>,
    /// Median total / the floor's median total.
    ratio_of_medians: Option<f64>,
    /// Every round's total / the floor's total in that round, in order.
    ratios: Vec<f64>,
    peak_rss_mib: Option<f64>,
    /// Every round's total, in order.
    totals_s: Vec<f64>,
}

/// Each round's total of `runs` divided by the floor's total in the same round (rounds
/// where the floor took no time are left out).
fn paired_ratios(runs: &[Timings], floor: &[Timings]) -> Vec<f64> {
    runs.iter()
        .zip(floor)
        .filter(|(_, f)| f.total_s() > 0.0)
        .map(|(r, f)| round_to(r.total_s() / f.total_s(), 3))
        .collect()
}

fn summarize(runs: &[Timings]) -> Figures {
    let pick = |f: fn(&Timings) -> f64| median(runs.iter().map(f).collect());
    Figures {
        insert_s: round_to(pick(|t| t.insert_s), 6),
        update_s: round_to(pick(|t| t.update_s), 6),
        delete_s: round_to(pick(|t| t.delete_s), 6),
        total_s: round_to(pick(Timings::total_s), 6),
        ratio: None,
        ratio_of_medians: None,
        ratios: Vec::new(),
        peak_rss_mib: runs.iter().filter_map(|t| t.peak_rss_kib).max().map(mib),
        totals_s: runs.iter().map(|t| round_to(t.total_s(), 6)).collect(),
    }
}

#[derive(Debug, Serialize)]
struct Variants {
    floor: Option<Figures>,
    listeners: Option<Figures>,
    /// Native triggers do not exist yet: always null.
    native: Option<Figures>,
}

#[derive(Debug, Serialize)]
struct Report {
    rows: u64,
    rounds: u64,
    batch: u64,
    sqlite_version: &'static str,
    variants: Variants,
    ratio_listeners: Option<f64>,
    native_status: &'static str,
}

const NATIVE_STATUS: &str = "not yet available";

fn bench(args: &Args, dir: &Path) -> Result<()> {
    let plan = args.plan();
    let variants = args.variant.variants();
    let mut runs: Vec<Vec<Timings>> = vec![Vec::new(); variants.len()];
    for round in 1..=args.rounds {
        // Alternate the order: a drift within a round then favours each variant in turn.
        let order: Vec<usize> = if round % 2 == 1 {
            (0..variants.len()).collect()
        } else {
            (0..variants.len()).rev().collect()
        };
        for k in order {
            let v = &variants[k];
            let db = dir.join(format!("{}-r{round}.db", v.name()));
            let t = run_variant(*v, &db, plan).with_context(|| format!("round {round}"))?;
            if !args.json_only {
                eprintln!(
                    "round {round}/{}  {:<9}  insert {:.3}s  update {:.3}s  delete {:.3}s  total {:.3}s  verified",
                    args.rounds,
                    v.name(),
                    t.insert_s,
                    t.update_s,
                    t.delete_s,
                    t.total_s()
                );
            }
            runs[k].push(t);
        }
    }
    let mut floor = None;
    let mut lis = None;
    for (v, r) in variants.iter().zip(&runs) {
        match v {
            Variant::Floor => floor = Some(summarize(r)),
            Variant::Listeners => lis = Some(summarize(r)),
        }
    }
    let floor_runs = variants
        .iter()
        .position(|v| *v == Variant::Floor)
        .map(|k| runs[k].clone());
    let floor_total = floor.as_ref().map(|f| f.total_s);
    for (f, k) in [(&mut floor, Variant::Floor), (&mut lis, Variant::Listeners)] {
        let (Some(f), Some(k)) = (f.as_mut(), variants.iter().position(|v| *v == k)) else {
            continue;
        };
        f.ratio_of_medians = floor_total.filter(|t| *t > 0.0).map(|t| round_to(f.total_s / t, 3));
        if let Some(fl) = &floor_runs {
            f.ratios = paired_ratios(&runs[k], fl);
            f.ratio = (!f.ratios.is_empty()).then(|| round_to(median(f.ratios.clone()), 3));
        }
    }
    let report = Report {
        rows: plan.rows,
        rounds: args.rounds,
        batch: plan.batch,
        sqlite_version: rusqlite::version(),
        ratio_listeners: lis.as_ref().and_then(|l| l.ratio),
        variants: Variants {
            floor,
            listeners: lis,
            native: None,
        },
        native_status: NATIVE_STATUS,
    };
    if !args.json_only {
        print_table(&report);
    }
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

fn print_table(r: &Report) {
    println!(
        "seed workload: N = {} rows, B = {}, median of {} round(s); SQLite {} (WAL, synchronous=NORMAL)",
        r.rows, r.batch, r.rounds, r.sqlite_version
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>13}",
        "variant", "insert s", "update s", "delete s", "total s", "ratio", "ratio med", "peak RSS MiB"
    );
    let rows = [("floor", &r.variants.floor), ("listeners", &r.variants.listeners)];
    for (name, f) in rows {
        let Some(f) = f else { continue };
        println!(
            "{:<10} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>7} {:>9} {:>13}",
            name,
            f.insert_s,
            f.update_s,
            f.delete_s,
            f.total_s,
            f.ratio.map_or_else(|| "-".to_string(), |x| format!("{x:.2}")),
            f.ratio_of_medians
                .map_or_else(|| "-".to_string(), |x| format!("{x:.2}")),
            f.peak_rss_mib.map_or_else(|| "-".to_string(), |x| format!("{x:.1}")),
        );
    }
    println!("{:<10} {NATIVE_STATUS} (trigorm has no native triggers yet)", "native");
    println!(
        "ratio: the median over rounds of the variant's total / the floor's total in the same round; \
         ratio med: median total / the floor's median total"
    );
}

#[derive(Debug, Serialize)]
struct MemoryFigures {
    variant: &'static str,
    peak_rss_mib: f64,
    peak_rss_mib_large: f64,
    growth: f64,
    total_s: f64,
    total_s_large: f64,
}

#[derive(Debug, Serialize)]
struct MemoryReport {
    memory_check: bool,
    rows: u64,
    rows_large: u64,
    batch: u64,
    limit_growth: f64,
    variants: Vec<MemoryFigures>,
    ok: bool,
}

fn memory_check(args: &Args, dir: &Path) -> Result<()> {
    let plan = args.plan();
    let large = Plan {
        rows: plan.rows.checked_mul(10).filter(|r| *r <= MAX_ROWS).ok_or_else(|| {
            anyhow!(
                "--memory-check runs 10 N rows: --rows must be at most {}",
                MAX_ROWS / 10
            )
        })?,
        batch: plan.batch,
    };
    let mut figures = Vec::new();
    for v in args.variant.variants() {
        let mut pair = Vec::new();
        for p in [plan, large] {
            let db = dir.join(format!("{}-n{}.db", v.name(), p.rows));
            let t = run_variant(v, &db, p)?;
            let kib = t
                .peak_rss_kib
                .ok_or_else(|| anyhow!("peak RSS is unavailable here (no /proc/self/status)"))?;
            if !args.json_only {
                eprintln!(
                    "{:<9}  N = {:>9}  total {:.3}s  peak RSS {:.1} MiB  verified",
                    v.name(),
                    p.rows,
                    t.total_s(),
                    mib(kib)
                );
            }
            pair.push((t, kib));
        }
        let (small, big) = (pair[0], pair[1]);
        figures.push(MemoryFigures {
            variant: v.name(),
            peak_rss_mib: mib(small.1),
            peak_rss_mib_large: mib(big.1),
            growth: round_to(big.1 as f64 / small.1.max(1) as f64, 3),
            total_s: round_to(small.0.total_s(), 6),
            total_s_large: round_to(big.0.total_s(), 6),
        });
    }
    let ok = figures.iter().all(|f| f.growth <= MEMORY_GROWTH_LIMIT);
    let report = MemoryReport {
        memory_check: true,
        rows: plan.rows,
        rows_large: large.rows,
        batch: plan.batch,
        limit_growth: MEMORY_GROWTH_LIMIT,
        variants: figures,
        ok,
    };
    if !args.json_only {
        println!(
            "memory check: peak RSS at N = {} and at 10 N = {} rows (B = {}); limit: 10 N within {MEMORY_GROWTH_LIMIT}x of N",
            plan.rows, large.rows, plan.batch
        );
        println!(
            "{:<10} {:>14} {:>14} {:>8}",
            "variant",
            format!("N={} MiB", plan.rows),
            format!("N={} MiB", large.rows),
            "growth"
        );
        for f in &report.variants {
            println!(
                "{:<10} {:>14.1} {:>14.1} {:>7.2}x",
                f.variant, f.peak_rss_mib, f.peak_rss_mib_large, f.growth
            );
        }
    }
    println!("{}", serde_json::to_string(&report)?);
    if !ok {
        let worst: Vec<String> = report
            .variants
            .iter()
            .filter(|f| f.growth > MEMORY_GROWTH_LIMIT)
            .map(|f| {
                format!(
                    "{} grew {:.2}x ({:.1} -> {:.1} MiB)",
                    f.variant, f.growth, f.peak_rss_mib, f.peak_rss_mib_large
                )
            })
            .collect();
        return Err(CheckFailed(format!(
            "memory grows with N beyond {MEMORY_GROWTH_LIMIT}x: {}",
            worst.join("; ")
        ))
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;

    fn parse(args: &[&str]) -> Result<Args, clap::Error> {
        Args::try_parse_from(std::iter::once("trigorm-bench").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let a = parse(&[]).expect("defaults");
        assert_eq!((a.rows, a.rounds, a.batch, a.variant), (20000, 5, 1000, Which::All));
        assert!(!a.json_only && !a.memory_check && a.child.is_none());
    }

    #[test]
    fn bad_counts_are_clear_errors() {
        for (args, needle) in [
            (&["--rows", "0"][..], "must be at least 1, got 0"),
            (&["--rows", "-5"][..], "must be at least 1, got -5"),
            (&["--rows=-5"][..], "must be at least 1, got -5"),
            (&["--rows", "abc"][..], "must be a whole number"),
            (&["--rows", "1e5"][..], "must be a whole number"),
            (&["--rows", "99999999999999999999999"][..], "must be at most"),
            (&["--rounds", "0"][..], "the round count must be at least 1"),
            (&["--batch", "-1"][..], "the batch size must be at least 1"),
            (&["--variant", "native"][..], "invalid value 'native'"),
        ] {
            let e = parse(args).expect_err("rejected");
            assert!(
                matches!(e.kind(), ErrorKind::ValueValidation | ErrorKind::InvalidValue),
                "{args:?}: {e}"
            );
            assert!(e.to_string().contains(needle), "{args:?}: {e}");
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn child_and_db_go_together() {
        assert!(parse(&["--child", "floor"]).is_err());
        assert!(parse(&["--db", "x.db"]).is_err());
        assert!(parse(&["--child", "floor", "--db", "x.db"]).is_ok());
    }

    #[test]
    fn ratios_pair_each_round_with_the_floor_of_that_round() {
        let t = |total: f64| Timings {
            insert_s: total / 2.0,
            update_s: total / 4.0,
            delete_s: total / 4.0,
            peak_rss_kib: None,
        };
        // The machine halves its speed in round 2: the paired ratios stay put.
        let floor = [t(1.0), t(2.0), t(1.0), t(0.0)];
        let lis = [t(1.2), t(2.4), t(1.3), t(5.0)];
        assert_eq!(
            paired_ratios(&lis, &floor),
            [1.2, 1.2, 1.3],
            "a floor of 0 s is left out"
        );
        assert_eq!(median(paired_ratios(&lis, &floor)), 1.2);
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }
}
