//! What the server backends (PostgreSQL in `pg.rs`, MariaDB/MySQL in `my.rs`) share: the
//! URL as shown with its password hidden, and the names of a run's own schema (a database
//! on MariaDB/MySQL), `bench_<pid>_<n>`.

/// The URL as shown in messages and the report: a password (`user:password@`) is
/// replaced by `***`.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => match authority[..at].split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// The name of a run's schema (or database): `bench_<pid>_<n>`.
pub fn bench_name(n: u64) -> String {
    format!("bench_{}_{n}", std::process::id())
}

/// Whether a schema (or database) name is one [`bench_name`] makes (and so safe to
/// splice into SQL and a URL unquoted).
pub fn is_bench_schema(name: &str) -> bool {
    let mut parts = name.split('_');
    parts.next() == Some("bench")
        && parts.clone().count() == 2
        && parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        assert_eq!(redact("postgres://u:pw@h/db?x=a@b"), "postgres://u:***@h/db?x=a@b");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(
            redact("mariadb://root:pw@127.0.0.1:3306/test"),
            "mariadb://root:***@127.0.0.1:3306/test"
        );
        assert_eq!(redact("no scheme"), "no scheme");
    }

    #[test]
    fn bench_schema_names() {
        assert!(is_bench_schema("bench_12_3"));
        assert!(is_bench_schema(&bench_name(7)));
        for bad in [
            "bench_12",
            "bench__3",
            "bench_1_2_3",
            "public",
            "test",
            "bench_1_x",
            "bench_1_2;drop",
        ] {
            assert!(!is_bench_schema(bad), "{bad}");
        }
    }
}
