//! Names: the default table name of a struct, the check every SQL name must pass, and the
//! case conventions of `#[trigorm(rename_all = "...")]`.

/// The longest identifier accepted (PostgreSQL's limit; the same as trigorm's runtime check).
pub(crate) const MAX_IDENTIFIER_LEN: usize = 63;

/// `AuditLog` -> `audit_log`, `HTTPRequest` -> `http_request`, `User2Fa` -> `user2_fa`.
pub(crate) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_is_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_is_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// A case convention for the stored texts of an enum's variants (`rename_all`), as in serde
/// and sqlx. Variant names are expected in UpperCamelCase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Case {
    /// `"lowercase"`: `HttpRequest` -> `httprequest`.
    Lower,
    /// `"UPPERCASE"`: `HttpRequest` -> `HTTPREQUEST`.
    Upper,
    /// `"snake_case"`: `HttpRequest` -> `http_request` (as [`snake_case`]).
    Snake,
    /// `"SCREAMING_SNAKE_CASE"`: `HttpRequest` -> `HTTP_REQUEST`.
    ScreamingSnake,
    /// `"kebab-case"`: `HttpRequest` -> `http-request`.
    Kebab,
}

impl Case {
    /// Every convention, by the name `rename_all` takes.
    pub(crate) const ALL: [(&'static str, Case); 5] = [
        ("lowercase", Case::Lower),
        ("UPPERCASE", Case::Upper),
        ("snake_case", Case::Snake),
        ("SCREAMING_SNAKE_CASE", Case::ScreamingSnake),
        ("kebab-case", Case::Kebab),
    ];

    /// The convention `rename_all = "name"` names (the name exactly, case-sensitive).
    pub(crate) fn from_name(name: &str) -> Option<Case> {
        Case::ALL.iter().find(|(n, _)| *n == name).map(|&(_, case)| case)
    }

    /// `name` (a variant's name) in this convention.
    pub(crate) fn apply(self, name: &str) -> String {
        match self {
            Case::Lower => name.to_lowercase(),
            Case::Upper => name.to_uppercase(),
            Case::Snake => snake_case(name),
            Case::ScreamingSnake => snake_case(name).to_uppercase(),
            Case::Kebab => snake_case(name).replace('_', "-"),
        }
    }
}

/// Why `name` is not a plain SQL identifier (`[A-Za-z_][A-Za-z0-9_]*`, at most 63 bytes),
/// or `None` when it is one.
pub(crate) fn identifier_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_IDENTIFIER_LEN {
        Some("it is longer than 63 bytes")
    } else if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        Some("it must start with an ASCII letter or '_'")
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Some("it may hold only ASCII letters, digits and '_'")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_of_struct_names() {
        assert_eq!(snake_case("User"), "user");
        assert_eq!(snake_case("AuditLog"), "audit_log");
        assert_eq!(snake_case("HTTPRequest"), "http_request");
        assert_eq!(snake_case("User2Fa"), "user2_fa");
        assert_eq!(snake_case("already_snake"), "already_snake");
        assert_eq!(snake_case("A"), "a");
    }

    #[test]
    fn case_conventions_of_variant_names() {
        let cases = [
            ("Insert", ["insert", "INSERT", "insert", "INSERT", "insert"]),
            (
                "HttpRequest",
                [
                    "httprequest",
                    "HTTPREQUEST",
                    "http_request",
                    "HTTP_REQUEST",
                    "http-request",
                ],
            ),
            (
                "HTTPRequest",
                [
                    "httprequest",
                    "HTTPREQUEST",
                    "http_request",
                    "HTTP_REQUEST",
                    "http-request",
                ],
            ),
            ("User2Fa", ["user2fa", "USER2FA", "user2_fa", "USER2_FA", "user2-fa"]),
            ("A", ["a", "A", "a", "A", "a"]),
        ];
        for (name, expected) in cases {
            let got = Case::ALL.map(|(_, case)| case.apply(name));
            assert_eq!(got, expected, "{name}");
        }
    }

    #[test]
    fn case_names() {
        for (name, case) in Case::ALL {
            assert_eq!(Case::from_name(name), Some(case));
        }
        assert_eq!(Case::from_name("kebab-case"), Some(Case::Kebab));
        assert_eq!(Case::from_name("snake"), None);
        assert_eq!(Case::from_name("Lowercase"), None);
        assert_eq!(Case::from_name("camelCase"), None);
        assert_eq!(Case::from_name(""), None);
    }

    #[test]
    fn identifiers() {
        assert_eq!(identifier_problem("users"), None);
        assert_eq!(identifier_problem("_x9"), None);
        assert_eq!(identifier_problem(&"a".repeat(63)), None);
        assert!(identifier_problem("").is_some());
        assert!(identifier_problem(&"a".repeat(64)).is_some());
        assert!(identifier_problem("9lives").is_some());
        assert!(identifier_problem("users; drop").is_some());
        assert!(identifier_problem("café").is_some());
    }
}
