//! `--memory-check`: each variant runs once at N and once at 10 N; the check fails when
//! the peak RSS at 10 N exceeds [`MEMORY_GROWTH_LIMIT`] times the one at N (a session
//! committing every B rows must not grow with N). It bounds memory growth, never time.

use anyhow::{anyhow, Result};

use crate::report::{mib, round_to, MemoryFigures, MemoryReport};
use crate::verify::CheckFailed;
use crate::workload::Plan;
use crate::{Args, Runner, Variant, MAX_ROWS};

/// `--memory-check` fails when the peak RSS at 10 N exceeds this times the one at N.
pub const MEMORY_GROWTH_LIMIT: f64 = 2.0;

/// Run each of `variants` at N and at 10 N, report their peak RSS and fail when it grows
/// more than [`MEMORY_GROWTH_LIMIT`] times; `skipped` is why trigorm's variants
/// (listeners, native) are not among them, when they were asked for.
pub fn check(args: &Args, runner: &mut Runner<'_>, variants: &[Variant], skipped: Option<String>) -> Result<()> {
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
    for &v in variants {
        let mut pair = Vec::new();
        for p in [plan, large] {
            let t = runner.run(v, &format!("{}-n{}", v.name(), p.rows), p)?;
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
        backend: runner.backend(),
        limit_growth: MEMORY_GROWTH_LIMIT,
        variants: figures,
        listeners_status: skipped.clone(),
        native_status: skipped,
        ok,
    };
    if !args.json_only {
        println!(
            "memory check: peak RSS at N = {} and at 10 N = {} rows (B = {}); limit: 10 N within {MEMORY_GROWTH_LIMIT}x of N{}",
            plan.rows,
            large.rows,
            plan.batch,
            match report.backend.backend {
                "sqlite" => String::new(),
                _ => format!("; {}", report.backend.heading()),
            }
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
        if let Some(why) = &report.listeners_status {
            println!("{:<10} not run: {why}", "listeners");
        }
        if let Some(why) = &report.native_status {
            println!("{:<10} not run: {why}", "native");
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
