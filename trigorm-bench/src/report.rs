//! The figures of a benchmark: medians, ratios to the floor, the backend, the table and
//! the JSON line.

use serde::Serialize;

use crate::server::redact;
use crate::workload::Timings;

pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => xs[n / 2],
        _ => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

pub fn round_to(x: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    (x * k).round() / k
}

pub fn mib(kib: u64) -> f64 {
    round_to(kib as f64 / 1024.0, 1)
}

/// One variant's figures, as in the table and the JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct Figures {
    pub insert_s: f64,
    pub update_s: f64,
    pub delete_s: f64,
    pub total_s: f64,
    /// The median over rounds of this total / the floor's total in the same round.
    pub ratio: Option<f64>,
    /// Median total / the floor's median total.
    pub ratio_of_medians: Option<f64>,
    /// Every round's total / the floor's total in that round, in order.
    pub ratios: Vec<f64>,
    pub peak_rss_mib: Option<f64>,
    /// Every round's total, in order.
    pub totals_s: Vec<f64>,
}

/// Each round's total of `runs` divided by the floor's total in the same round (rounds
/// where the floor took no time are left out).
pub fn paired_ratios(runs: &[Timings], floor: &[Timings]) -> Vec<f64> {
    runs.iter()
        .zip(floor)
        .filter(|(_, f)| f.total_s() > 0.0)
        .map(|(r, f)| round_to(r.total_s() / f.total_s(), 3))
        .collect()
}

pub fn summarize(runs: &[Timings]) -> Figures {
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
pub struct Variants {
    pub floor: Option<Figures>,
    pub listeners: Option<Figures>,
    /// trigorm with native audit triggers (`native.rs`).
    pub native: Option<Figures>,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub rows: u64,
    pub rounds: u64,
    pub batch: u64,
    #[serde(flatten)]
    pub backend: Backend,
    pub variants: Variants,
    pub ratio_listeners: Option<f64>,
    /// The native variant's `ratio` (null when it did not run).
    pub ratio_native: Option<f64>,
    /// Why the listeners were not run, when trigorm refused the server
    /// ([`crate::listeners::unsupported`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listeners_status: Option<String>,
    /// Why the native variant was not run, when trigorm refused the server (the same
    /// reason as the listeners').
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_status: Option<String>,
}

/// Where the runs went, as the JSON line and the table's heading name it.
#[derive(Debug, Clone, Serialize)]
pub struct Backend {
    /// `sqlite`, `postgres`, `mariadb` or `mysql`.
    pub backend: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sqlite_version: Option<&'static str>,
    /// The server's `server_version`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres_version: Option<String>,
    /// The server's URL, its password hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postgres_url: Option<String>,
    /// A MariaDB/MySQL server's `VERSION()`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mysql_version: Option<String>,
    /// A MariaDB/MySQL server's URL, its password hidden.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mysql_url: Option<String>,
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend {
            backend: "sqlite",
            sqlite_version: Some(rusqlite::version()),
            postgres_version: None,
            postgres_url: None,
            mysql_version: None,
            mysql_url: None,
        }
    }

    pub fn postgres(version: &str, url: &str) -> Backend {
        Backend {
            backend: "postgres",
            sqlite_version: None,
            postgres_version: Some(version.to_string()),
            postgres_url: Some(redact(url)),
            mysql_version: None,
            mysql_url: None,
        }
    }

    /// A MariaDB/MySQL server: `backend` is `mariadb` or `mysql` by its `VERSION()`.
    pub fn mysql(version: &str, url: &str) -> Backend {
        Backend {
            backend: crate::my::flavour(version),
            sqlite_version: None,
            postgres_version: None,
            postgres_url: None,
            mysql_version: Some(version.to_string()),
            mysql_url: Some(redact(url)),
        }
    }

    /// The heading's description of the database.
    pub fn heading(&self) -> String {
        match self.backend {
            "sqlite" => format!(
                "SQLite {} (WAL, synchronous=NORMAL)",
                self.sqlite_version.unwrap_or("?")
            ),
            "postgres" => format!(
                "PostgreSQL {} at {}, a fresh schema per run (tables by trigorm's create_all)",
                self.postgres_version.as_deref().unwrap_or("?"),
                self.postgres_url.as_deref().unwrap_or("?"),
            ),
            flavour => format!(
                "{} {} at {}, a fresh database per run (tables by the benchmark's DDL)",
                if flavour == "mariadb" { "MariaDB" } else { "MySQL" },
                self.mysql_version.as_deref().unwrap_or("?"),
                self.mysql_url.as_deref().unwrap_or("?"),
            ),
        }
    }
}

pub fn print_table(r: &Report) {
    println!(
        "seed workload: N = {} rows, B = {}, median of {} round(s); {}",
        r.rows,
        r.batch,
        r.rounds,
        r.backend.heading()
    );
    println!(
        "{:<10} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9} {:>13}",
        "variant", "insert s", "update s", "delete s", "total s", "ratio", "ratio med", "peak RSS MiB"
    );
    let rows = [
        ("floor", &r.variants.floor),
        ("listeners", &r.variants.listeners),
        ("native", &r.variants.native),
    ];
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
    if let (None, Some(why)) = (&r.variants.listeners, &r.listeners_status) {
        println!("{:<10} not run: {why}", "listeners");
    }
    if let (None, Some(why)) = (&r.variants.native, &r.native_status) {
        println!("{:<10} not run: {why}", "native");
    }
    println!(
        "ratio: the median over rounds of the variant's total / the floor's total in the same round; \
         ratio med: median total / the floor's median total"
    );
}

#[derive(Debug, Serialize)]
pub struct MemoryFigures {
    pub variant: &'static str,
    pub peak_rss_mib: f64,
    pub peak_rss_mib_large: f64,
    pub growth: f64,
    pub total_s: f64,
    pub total_s_large: f64,
}

#[derive(Debug, Serialize)]
pub struct MemoryReport {
    pub memory_check: bool,
    pub rows: u64,
    pub rows_large: u64,
    pub batch: u64,
    #[serde(flatten)]
    pub backend: Backend,
    pub limit_growth: f64,
    pub variants: Vec<MemoryFigures>,
    /// Why the listeners were not run, when trigorm refused the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listeners_status: Option<String>,
    /// Why the native variant was not run, when trigorm refused the server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub native_status: Option<String>,
    pub ok: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The native variant is reported beside the others, its ratio at the top level too;
    /// a variant not run is null, with the reason when trigorm refused the server.
    #[test]
    fn the_json_reports_native_beside_the_others() {
        let t = |total: f64| Timings {
            insert_s: total,
            update_s: 0.0,
            delete_s: 0.0,
            peak_rss_kib: Some(2048),
        };
        let mut native = summarize(&[t(1.3)]);
        native.ratio = Some(1.3);
        let report = Report {
            rows: 10,
            rounds: 1,
            batch: 5,
            backend: Backend::sqlite(),
            variants: Variants {
                floor: Some(summarize(&[t(1.0)])),
                listeners: None,
                native: Some(native),
            },
            ratio_listeners: None,
            ratio_native: Some(1.3),
            listeners_status: None,
            native_status: None,
        };
        let v = serde_json::to_value(&report).expect("json");
        assert_eq!(v["ratio_native"], 1.3);
        assert_eq!(v["variants"]["native"]["total_s"], 1.3);
        assert_eq!(v["variants"]["native"]["peak_rss_mib"], 2.0);
        assert!(v["variants"]["listeners"].is_null() && v["ratio_listeners"].is_null());
        assert!(v.get("native_status").is_none(), "no status when it ran");
        let report = Report {
            variants: Variants {
                floor: None,
                listeners: None,
                native: None,
            },
            ratio_native: None,
            native_status: Some("unsupported".into()),
            ..report
        };
        let v = serde_json::to_value(&report).expect("json");
        assert!(v["variants"]["native"].is_null() && v["ratio_native"].is_null());
        assert_eq!(v["native_status"], "unsupported");
    }

    #[test]
    fn medians() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
    }

    #[test]
    fn the_json_names_the_backend() {
        let v = serde_json::to_value(Backend::sqlite()).expect("json");
        assert_eq!(v["backend"], "sqlite");
        assert_eq!(v["sqlite_version"], rusqlite::version());
        assert!(v.get("postgres_version").is_none());
        let b = Backend::postgres("15.20", "postgres://u:pw@h/db");
        let v = serde_json::to_value(&b).expect("json");
        assert_eq!(v["backend"], "postgres");
        assert_eq!(v["postgres_url"], "postgres://u:***@h/db");
        assert!(v.get("sqlite_version").is_none());
        assert!(b.heading().starts_with("PostgreSQL 15.20 at postgres://u:***@h/db"));
        assert_eq!(
            Backend::sqlite().heading(),
            format!("SQLite {} (WAL, synchronous=NORMAL)", rusqlite::version())
        );
        let b = Backend::mysql("10.11.19-MariaDB-0+deb12u1", "mariadb://root:pw@127.0.0.1:3306/test");
        let v = serde_json::to_value(&b).expect("json");
        assert_eq!(v["backend"], "mariadb");
        assert_eq!(v["mysql_version"], "10.11.19-MariaDB-0+deb12u1");
        assert_eq!(v["mysql_url"], "mariadb://root:***@127.0.0.1:3306/test");
        assert!(v.get("postgres_version").is_none() && v.get("sqlite_version").is_none());
        assert!(b.heading().starts_with(
            "MariaDB 10.11.19-MariaDB-0+deb12u1 at mariadb://root:***@127.0.0.1:3306/test, a fresh database"
        ));
        let b = Backend::mysql("8.0.36", "mysql://u@h/db");
        assert_eq!(
            (b.backend, b.heading().starts_with("MySQL 8.0.36 at mysql://u@h/db")),
            ("mysql", true)
        );
    }
}
