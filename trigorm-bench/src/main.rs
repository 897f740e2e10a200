//! # trigorm-bench: the seed workload
//!
//! `cargo run --release -p trigorm-bench -- --rows 20000` runs the seed workload
//! (shared/bench/seed-workload.md): insert N users, rename every user, delete every other
//! id range of B users, one transaction per batch of B, every change recorded in `log` in
//! the same transaction, then reports the median over `--rounds` rounds of each variant.
//!
//! ## Variants
//! - `floor`: the same work hand-written on the bare driver, one statement per row; the
//!   log row inserted by hand. It is the per-row limit the ORM is held to (trigorm's goal:
//!   at most 0.5x of it). On SQLite it is rusqlite (see `floor.rs` for its fairness rules:
//!   trigorm's pragmas, schema, statement texts, `BEGIN IMMEDIATE` batches, statements
//!   prepared once, the same values, timestamps stored as trigorm stores them); on
//!   PostgreSQL the sync `postgres` crate (see `floor_postgres.rs`: the same URL, the
//!   tables trigorm created, per-row statements prepared once per connection, one
//!   transaction per batch, one statement per row, timestamps bound as `timestamptz`); on
//!   MariaDB/MySQL the sync `mysql` crate (see `floor_mysql.rs`: the same rules, ids from
//!   each insert's last-insert id, timestamps bound as `DATETIME(6)` in UTC).
//! - `listeners`: trigorm models and sessions; after-insert/update/delete listeners stage
//!   the `Log` row with `ctx.add` (see `listeners.rs`). The same code on either database:
//!   only the engine URL differs. On SQLite trigorm writes a row per statement, as the
//!   floor does; on PostgreSQL it batches a flush: a run of inserts is one
//!   `INSERT ... SELECT * FROM unnest(...)`, a run of updates or deletes locks its rows with
//!   one `SELECT ... WHERE id = ANY($1) ORDER BY id FOR UPDATE`, then writes them with one
//!   `UPDATE ... FROM unnest(...)` or `DELETE ... WHERE id = ANY($1)` (the floor stays per
//!   row: that difference is what is measured; `floor_postgres.rs` has a test that pins
//!   it down). On MariaDB/MySQL trigorm batches a flush too (multi-row statements; the
//!   floor stays per row, `floor_mysql.rs` has the test). The variant runs when trigorm's
//!   engine opens the URL; when trigorm refuses it as unsupported (a build without its
//!   MariaDB/MySQL driver), `--variant all` runs the floor alone and reports the listeners
//!   (and `native`) as not run, with trigorm's reason, and `--variant listeners` fails.
//! - `native`: the same trigorm models, sessions, steps and transactions as `listeners`,
//!   with no listener: the log rows are written by three native triggers (after insert,
//!   after update of the name, after delete of `users`), declared with trigorm's trigger
//!   API (`TriggerDef::custom`, one body per backend) and installed by the engine's
//!   `create_all` before the timed work, untimed (see `native.rs`). The same code on every
//!   database; refused as the listeners are (`--variant native` fails, `--variant all`
//!   reports it as not run) when trigorm refuses the URL.
//!
//! ## The database: `--url`
//! Without `--url` (or with `--url sqlite:`) every run gets a fresh SQLite file in `--dir`.
//! With `--url postgres://USER@HOST:PORT/DB` (or `postgresql://`), every run gets a fresh
//! schema `bench_<pid>_<n>` on that server, and its tables `users` and `log` are created
//! by trigorm (`create_all` of the listeners' models) before the child starts, identically
//! for every variant and untimed (a failure there fails the run); the child's connections,
//! the bare driver's and trigorm's engine alike, reach the schema through the URL
//! parameter `options=-csearch_path%3D...` (`pg.rs`). After the end state is checked the
//! schema is dropped with `CASCADE`, on failure too, and with it the native variant's
//! triggers and their functions (`trigorm_users_*_audit_fn`, created in the run's schema).
//!
//! With `--url mysql://USER@HOST:PORT/DB` (or `mariadb://`, read as `mysql://` by the
//! `mysql` crate), every run gets a fresh database `bench_<pid>_<n>` on that server (the
//! URL's own database is never written to), its tables created by the benchmark's DDL
//! (`my.rs`: `BIGINT AUTO_INCREMENT` keys, `LONGTEXT`, `DATETIME(6)`, InnoDB, utf8mb4),
//! identically for every variant and untimed; the child's connections reach it through
//! the URL's path, and every connection is set up as trigorm's driver sets up its own
//! (`time_zone = '+00:00'`, strict `sql_mode`, READ COMMITTED). After the end state is
//! checked the database is dropped, on failure too (the native variant's triggers with
//! their tables).
//!
//! ## How it measures
//! Each run of a variant is a child process of this binary (`--child VARIANT --db FILE`,
//! or `--child VARIANT --url URL --schema NAME`, hidden; on MariaDB/MySQL the "schema" is
//! the run's database) on a fresh database file, schema or database, so that its peak RSS
//! (`VmHWM`) is its own: on a server that is the client's memory, the server's is not
//! counted. Schema creation is not timed. Every round runs
//! each variant once, back to back, in an order that alternates from round to round
//! (floor, listeners, native, then native, listeners, floor, ...), so that a machine getting
//! faster or slower during a round favours neither. The parent verifies the end state of
//! every run on a plain rusqlite, `postgres` or `mysql` connection (`verify.rs`), and
//! reports per variant the median of each phase, the median total and the highest peak RSS, and two
//! ratios to the floor: `ratio`, the median over rounds of the variant's total divided by
//! the floor's total *in the same round* (the two ran within a second of each other, on
//! the same machine state; also `ratio_listeners` and `ratio_native` at the JSON's top
//! level), and `ratio_of_medians`, the median total divided by the
//! floor's median total. On a quiet machine they agree;
//! on a noisy one (a VM whose speed drifts by 2x over seconds) the paired one is the
//! steadier reading. The output is a table, then one JSON line (`--json-only`: the JSON
//! line alone); both name the backend (`"backend": "sqlite"`, `"postgres"`, `"mariadb"` or
//! `"mysql"`, with the database's version).
//!
//! `--memory-check` (`memory.rs`) runs each variant once at N and once at 10 N and fails
//! when the peak RSS at 10 N exceeds twice the one at N: a session committing every B rows
//! must not grow with N. It bounds memory growth, never time; nothing here asserts a time.
//!
//! ## Exit codes
//! 0: success. 1: a run's end state is wrong, or the memory bound is exceeded.
//! 2: bad arguments (a clear message from clap, or about `--url`), an unusable `--dir` or
//! server, or a failed run.

mod floor;
mod floor_mysql;
mod floor_postgres;
mod listeners;
mod memory;
mod my;
mod native;
mod pg;
mod report;
mod server;
mod sys;
mod verify;
mod workload;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use anyhow::{anyhow, bail, Context, Result};
use chrono::Utc;
use clap::{Parser, ValueEnum};

use report::{median, paired_ratios, round_to, summarize, Backend, Report, Variants};
use sys::WorkDir;
use verify::CheckFailed;
use workload::{Plan, Timings};

/// A variant of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Variant {
    Floor,
    Listeners,
    Native,
}

impl Variant {
    fn name(self) -> &'static str {
        match self {
            Variant::Floor => "floor",
            Variant::Listeners => "listeners",
            Variant::Native => "native",
        }
    }

    /// Whether the variant runs through trigorm's engine (and so only where trigorm opens
    /// the URL).
    fn uses_trigorm(self) -> bool {
        self != Variant::Floor
    }
}

/// Which variants to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Which {
    Floor,
    Listeners,
    Native,
    All,
}

impl Which {
    fn variants(self) -> Vec<Variant> {
        match self {
            Which::Floor => vec![Variant::Floor],
            Which::Listeners => vec![Variant::Listeners],
            Which::Native => vec![Variant::Native],
            Which::All => vec![Variant::Floor, Variant::Listeners, Variant::Native],
        }
    }
}

const MAX_ROWS: u64 = 10_000_000;
const MAX_ROUNDS: u64 = 1_000;
const MAX_BATCH: u64 = 10_000_000;

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

/// The seed-workload benchmark of trigorm: a hand-written floor on the bare driver against
/// trigorm with audit listeners and trigorm with native audit triggers, on SQLite,
/// PostgreSQL or MariaDB/MySQL.
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
    /// fresh temporary directory, removed at the end. SQLite only.
    #[arg(long, value_name = "PATH")]
    dir: Option<PathBuf>,

    /// The database: postgres://USER@HOST:PORT/DB (or postgresql://...) runs every variant
    /// on that PostgreSQL server, each run in a fresh schema dropped afterwards;
    /// mysql://USER@HOST:PORT/DB (or mariadb://...) on that MariaDB/MySQL server, each run
    /// in a fresh database dropped afterwards. Without it, or with sqlite:, every run gets a
    /// fresh SQLite file in --dir.
    #[arg(long, value_name = "URL")]
    url: Option<String>,

    /// Which variants to run (all: floor, listeners and native).
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
    #[arg(long, value_enum, hide = true, requires = "place")]
    child: Option<Variant>,

    /// Internal: the database file of a --child run on SQLite.
    #[arg(long, hide = true, requires = "child", group = "place")]
    db: Option<PathBuf>,

    /// Internal: the schema of a --child run on the PostgreSQL server of --url (the
    /// database, on a MariaDB/MySQL server).
    #[arg(long, hide = true, requires_all = ["child", "url"], group = "place", value_parser = schema_name)]
    schema: Option<String>,
}

/// A parser for the name of a run's schema or database (one [`pg::Server::schema`] or
/// [`my::Server::database`] makes).
fn schema_name(s: &str) -> Result<String, String> {
    if server::is_bench_schema(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "{s:?} is not a schema name of this benchmark (bench_<pid>_<n>)"
        ))
    }
}

/// Where the runs go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// A fresh SQLite file per run, in `--dir`.
    Sqlite,
    /// A fresh schema per run on the server of this URL.
    Postgres(String),
    /// A fresh database per run on the MariaDB/MySQL server of this URL.
    Mysql(String),
}

/// Read a `--url` (never echoing a password, as clap would in its message).
fn target(url: Option<&str>) -> Result<Target> {
    let Some(url) = url else {
        return Ok(Target::Sqlite);
    };
    if pg::is_postgres_url(url) {
        pg::check_url(url).map_err(|e| anyhow!("--url: {e}"))?;
        return Ok(Target::Postgres(url.to_string()));
    }
    if my::is_mysql_url(url) {
        my::check_url(url).map_err(|e| anyhow!("--url: {e}"))?;
        return Ok(Target::Mysql(url.to_string()));
    }
    match url.strip_prefix("sqlite:") {
        Some("" | "//") => Ok(Target::Sqlite),
        Some(_) => bail!(
            "--url: a sqlite: URL takes no path here: every run gets a fresh database file in --dir \
             (use --url sqlite: or leave --url out)"
        ),
        None => bail!(
            "--url: expected postgres://USER@HOST:PORT/DB, postgresql://..., mysql://USER@HOST:PORT/DB, \
             mariadb://... or sqlite:, got {:?}",
            server::redact(url)
        ),
    }
}

impl Args {
    fn plan(&self) -> Plan {
        Plan {
            rows: self.rows,
            batch: self.batch,
        }
    }

    fn target(&self) -> Result<Target> {
        target(self.url.as_deref())
    }
}

/// The engine URL of a SQLite database file.
pub fn sqlite_url(db: &Path) -> String {
    format!("sqlite://{}", db.display())
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

/// The child: run one variant on `--db` (SQLite) or in `--schema` (a schema on the
/// PostgreSQL server of `--url`, a database on the MariaDB/MySQL one) and print its
/// timings as one JSON line.
fn child(v: Variant, args: &Args) -> Result<()> {
    let plan = args.plan();
    let mut t = match (&args.db, &args.schema) {
        (Some(db), None) => match v {
            Variant::Floor => floor::run(db, plan)?,
            Variant::Listeners => listeners::run(&sqlite_url(db), plan)?,
            Variant::Native => native::run(&sqlite_url(db), plan)?,
        },
        (None, Some(schema)) => match args.target()? {
            Target::Postgres(base) => {
                let url = pg::schema_url(&base, schema);
                match v {
                    Variant::Floor => floor_postgres::run(&url, schema, plan)?,
                    Variant::Listeners => listeners::run(&url, plan)?,
                    Variant::Native => native::run(&url, plan)?,
                }
            }
            Target::Mysql(base) => {
                let url = my::database_url(&base, schema);
                match v {
                    Variant::Floor => floor_mysql::run(&url, schema, plan)?,
                    Variant::Listeners => listeners::run(&url, plan)?,
                    Variant::Native => native::run(&url, plan)?,
                }
            }
            Target::Sqlite => bail!("--schema needs a postgres:// or mysql:// --url"),
        },
        _ => bail!("--child needs --db or --schema"),
    };
    t.peak_rss_kib = sys::peak_rss_kib();
    println!("{}", serde_json::to_string(&t)?);
    Ok(())
}

/// Run `v` in a child process of this program with `place` (its `--db` or `--schema`
/// arguments) and read its timings.
fn spawn_child(v: Variant, plan: Plan, place: &[&OsStr]) -> Result<Timings> {
    let exe = std::env::current_exe().context("finding this program to run a variant")?;
    let out = Command::new(exe)
        .args([
            "--child",
            v.name(),
            "--rows",
            &plan.rows.to_string(),
            "--batch",
            &plan.batch.to_string(),
        ])
        .args(place)
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
    serde_json::from_str(line).with_context(|| format!("reading the {} run's report {line:?}", v.name()))
}

/// Run `v` in a child process on a fresh `db`, then verify the end state and remove the
/// file.
fn run_variant(v: Variant, db: &Path, plan: Plan) -> Result<Timings> {
    sys::remove_db(db)?;
    let t = spawn_child(v, plan, &["--db".as_ref(), db.as_os_str()])?;
    verify::verify(db, plan).with_context(|| format!("{} variant, N = {}", v.name(), plan.rows))?;
    sys::remove_db(db)?;
    Ok(t)
}

/// Run `v` in a child process in a fresh schema on `server` (its tables created by
/// trigorm beforehand, untimed), then verify the end state and drop the schema (dropped
/// on failure too).
fn run_variant_pg(v: Variant, server: &mut pg::Server, plan: Plan) -> Result<Timings> {
    let base = server.url().to_string();
    let mut schema = server.schema()?;
    schema.create_tables()?;
    let start = Utc::now();
    let place = ["--url", &base, "--schema", schema.name()].map(OsStr::new);
    let t = spawn_child(v, plan, &place)?;
    let window = verify::Window { start, end: Utc::now() };
    let name = schema.name().to_string();
    verify::verify_postgres(schema.client(), &name, plan, window)
        .with_context(|| format!("{} variant, N = {} (the schema is dropped)", v.name(), plan.rows))?;
    schema.drop_now()?;
    Ok(t)
}

/// Run `v` in a child process in a fresh database on the MariaDB/MySQL `server` (its
/// tables created beforehand, untimed), then verify the end state and drop the database
/// (dropped on failure too).
fn run_variant_mysql(v: Variant, server: &mut my::Server, plan: Plan) -> Result<Timings> {
    let base = server.url().to_string();
    let mut db = server.database()?;
    db.create_tables()?;
    let start = Utc::now();
    let place = ["--url", &base, "--schema", db.name()].map(OsStr::new);
    let t = spawn_child(v, plan, &place)?;
    let window = verify::Window { start, end: Utc::now() };
    let name = db.name().to_string();
    verify::verify_mysql(db.client(), &name, plan, window)
        .with_context(|| format!("{} variant, N = {} (the database is dropped)", v.name(), plan.rows))?;
    db.drop_now()?;
    Ok(t)
}

/// Where the runs go: fresh files in a directory, or fresh schemas or databases on a
/// server.
enum Runner<'a> {
    Sqlite(&'a Path),
    Postgres(&'a mut pg::Server),
    Mysql(&'a mut my::Server),
}

impl Runner<'_> {
    /// Run `v` on fresh storage (on SQLite the file `<label>.db`), verify and clean up.
    fn run(&mut self, v: Variant, label: &str, plan: Plan) -> Result<Timings> {
        match self {
            Runner::Sqlite(dir) => run_variant(v, &dir.join(format!("{label}.db")), plan),
            Runner::Postgres(server) => run_variant_pg(v, server, plan),
            Runner::Mysql(server) => run_variant_mysql(v, server, plan),
        }
    }

    /// The variants of `which` to run, and why trigorm's variants (listeners, native) are
    /// left out when they are: on MariaDB/MySQL, trigorm refusing the URL as unsupported
    /// leaves them out of `--variant all` with its reason, and fails `--variant listeners`
    /// and `--variant native`.
    fn variants(&self, which: Which) -> Result<(Vec<Variant>, Option<String>)> {
        let all = which.variants();
        let Runner::Mysql(server) = self else {
            return Ok((all, None));
        };
        if !all.iter().any(|v| v.uses_trigorm()) {
            return Ok((all, None));
        }
        match listeners::unsupported(server.url()) {
            None => Ok((all, None)),
            Some(why) if which == Which::All => {
                Ok((all.into_iter().filter(|v| !v.uses_trigorm()).collect(), Some(why)))
            }
            Some(why) => bail!(
                "the {} variant cannot run on {}: {why}",
                all[0].name(),
                server::redact(server.url())
            ),
        }
    }

    fn backend(&self) -> Backend {
        match self {
            Runner::Sqlite(_) => Backend::sqlite(),
            Runner::Postgres(s) => Backend::postgres(s.version(), s.url()),
            Runner::Mysql(s) => Backend::mysql(s.version(), s.url()),
        }
    }
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
    if args.db.is_some() || args.schema.is_some() {
        bail!("--db and --schema are only for --child runs");
    }
    let go = |runner: &mut Runner<'_>| {
        let (variants, skipped) = runner.variants(args.variant)?;
        if let (Some(why), false) = (&skipped, args.json_only) {
            eprintln!("trigorm-bench: the listeners and native variants are not run: {why}");
        }
        if args.memory_check {
            memory::check(args, runner, &variants, skipped)
        } else {
            bench(args, runner, &variants, skipped)
        }
    };
    match args.target()? {
        Target::Sqlite => with_dir(args, |dir| go(&mut Runner::Sqlite(dir))),
        Target::Postgres(url) => {
            if let Some(d) = &args.dir {
                bail!(
                    "--dir {} is where SQLite database files go; with a postgres URL every run is a schema on the server",
                    d.display()
                );
            }
            let mut server = pg::Server::connect(&url)?;
            go(&mut Runner::Postgres(&mut server))
        }
        Target::Mysql(url) => {
            if let Some(d) = &args.dir {
                bail!(
                    "--dir {} is where SQLite database files go; with a mysql URL every run is a database on the server",
                    d.display()
                );
            }
            let mut server = my::Server::connect(&url)?;
            go(&mut Runner::Mysql(&mut server))
        }
    }
}

/// Run `variants` round by round and report; `skipped` is why trigorm's variants
/// (listeners, native) are not among them, when they were asked for.
fn bench(args: &Args, runner: &mut Runner<'_>, variants: &[Variant], skipped: Option<String>) -> Result<()> {
    let plan = args.plan();
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
            let label = format!("{}-r{round}", v.name());
            let t = runner.run(*v, &label, plan).with_context(|| format!("round {round}"))?;
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
    let mut native = None;
    for (v, r) in variants.iter().zip(&runs) {
        match v {
            Variant::Floor => floor = Some(summarize(r)),
            Variant::Listeners => lis = Some(summarize(r)),
            Variant::Native => native = Some(summarize(r)),
        }
    }
    let floor_runs = variants
        .iter()
        .position(|v| *v == Variant::Floor)
        .map(|k| runs[k].clone());
    let floor_total = floor.as_ref().map(|f| f.total_s);
    for (f, k) in [
        (&mut floor, Variant::Floor),
        (&mut lis, Variant::Listeners),
        (&mut native, Variant::Native),
    ] {
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
        backend: runner.backend(),
        ratio_listeners: lis.as_ref().and_then(|l| l.ratio),
        ratio_native: native.as_ref().and_then(|n| n.ratio),
        listeners_status: skipped.clone(),
        native_status: skipped,
        variants: Variants {
            floor,
            listeners: lis,
            native,
        },
    };
    if !args.json_only {
        report::print_table(&report);
    }
    println!("{}", serde_json::to_string(&report)?);
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
            (&["--variant", "triggers"][..], "invalid value 'triggers'"),
            (&["--child", "all", "--db", "x.db"][..], "invalid value 'all'"),
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
    fn native_is_a_variant() {
        let a = parse(&["--variant", "native"]).expect("--variant native");
        assert_eq!(a.variant.variants(), [Variant::Native]);
        assert_eq!(
            Which::All.variants(),
            [Variant::Floor, Variant::Listeners, Variant::Native],
            "all runs the three, the floor first"
        );
        let a = parse(&["--child", "native", "--db", "x.db"]).expect("a native child");
        assert_eq!(a.child, Some(Variant::Native));
        assert_eq!(Variant::Native.name(), "native");
        assert!(Variant::Native.uses_trigorm() && Variant::Listeners.uses_trigorm());
        assert!(!Variant::Floor.uses_trigorm());
    }

    /// A tiny native run on SQLite through the child's own code path ends in the
    /// workload's end state.
    #[test]
    fn a_native_child_run_verifies() {
        let dir = WorkDir::fresh().expect("temp dir");
        let db = dir.path().join("native.db");
        let db_arg = db.to_str().expect("a UTF-8 path");
        let a = parse(&["--child", "native", "--rows", "300", "--batch", "50", "--db", db_arg]).expect("args");
        child(Variant::Native, &a).expect("the native run");
        verify::verify(&db, a.plan()).expect("the native run verifies");
    }

    #[test]
    fn child_and_db_go_together() {
        assert!(parse(&["--child", "floor"]).is_err());
        assert!(parse(&["--db", "x.db"]).is_err());
        assert!(parse(&["--child", "floor", "--db", "x.db"]).is_ok());
    }

    #[test]
    fn a_child_runs_in_a_file_or_in_a_schema() {
        let pg = ["--url", "postgres://h/db"];
        let a = parse(&[&["--child", "listeners", "--schema", "bench_1_2"][..], &pg].concat()).expect("a schema");
        assert_eq!((a.schema.as_deref(), a.db.as_deref()), (Some("bench_1_2"), None));
        assert!(
            parse(&["--child", "floor", "--schema", "bench_1_2"]).is_err(),
            "a schema needs --url"
        );
        assert!(
            parse(&[&["--schema", "bench_1_2"][..], &pg].concat()).is_err(),
            "a schema needs --child"
        );
        let my = ["--url", "mariadb://root@h/test"];
        let a = parse(&[&["--child", "floor", "--schema", "bench_1_2"][..], &my].concat()).expect("a database");
        assert_eq!(
            a.target().expect("mysql"),
            Target::Mysql("mariadb://root@h/test".into())
        );
        let both = [&["--child", "floor", "--db", "x.db", "--schema", "bench_1_2"][..], &pg].concat();
        assert!(parse(&both).is_err(), "a file or a schema, not both");
        let e = parse(&[&["--child", "floor", "--schema", "public"][..], &pg].concat()).expect_err("not ours");
        assert!(e.to_string().contains("not a schema name of this benchmark"), "{e}");
    }

    #[test]
    fn urls_name_the_target() {
        assert_eq!(target(None).expect("default"), Target::Sqlite);
        assert_eq!(target(Some("sqlite:")).expect("sqlite:"), Target::Sqlite);
        assert_eq!(target(Some("sqlite://")).expect("sqlite://"), Target::Sqlite);
        let url = "postgres://postgres@127.0.0.1:5432/test";
        assert_eq!(target(Some(url)).expect("postgres"), Target::Postgres(url.into()));
        let url = "postgresql://u@h/db?sslmode=disable";
        assert_eq!(target(Some(url)).expect("postgresql"), Target::Postgres(url.into()));
        let url = "mysql://root@127.0.0.1:3306/test";
        assert_eq!(target(Some(url)).expect("mysql"), Target::Mysql(url.into()));
        let url = "mariadb://root@127.0.0.1:3306/test";
        assert_eq!(target(Some(url)).expect("mariadb"), Target::Mysql(url.into()));
        for (url, needle) in [
            ("sqlite://x.db", "takes no path here"),
            ("oracle://u@h/db", "expected postgres://"),
            ("127.0.0.1:5432", "expected postgres://"),
            ("postgres://u:secret@h:port/db", "not a usable PostgreSQL URL"),
            ("mysql://u:secret@h:port/db", "not a usable MySQL URL"),
            ("mssql://u:secret@h/db", "u:***@h/db"),
        ] {
            let e = target(Some(url)).expect_err(url).to_string();
            assert!(e.contains(needle) && !e.contains("secret"), "{url}: {e}");
        }
        let a = parse(&["--url", "postgres://u:secret@h:port/db"]).expect("clap takes any text");
        assert!(a.target().is_err());
    }
}
