//! `#[trigorm(...)]` attributes: their syntax only (known keys, value forms, duplicates).
//! What the keys mean together (one primary key, `natural` on the key, two variants with
//! one text, ...) is checked in `model.rs` and `field.rs`.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, Lit, LitStr, Path, Token};

use crate::names::Case;

const STRUCT_KEYS: &str =
    "`table`, `protect`, `read_only`, `soft_delete`, `transitions`, `updated_at`, `version`, `custom`";
const FIELD_KEYS: &str =
    "`primary_key`, `natural`, `column`, `unique`, `index`, `version`, `default`, `references`, `on_delete`";
const DEFAULT_FORMS: &str =
    "`default` takes an integer, float, bool or string literal, e.g. `default = 0`, `default = -1.5`, \
     `default = true`, `default = \"none\"`";
const ON_DELETE_ACTIONS: &str = "\"cascade\", \"restrict\", \"set_null\", \"set_default\", \"no_action\"";
const ENUM_KEYS: &str = "`rename_all`";
const VARIANT_KEYS: &str = "`rename`";

/// The attributes on the struct.
#[derive(Default)]
pub(crate) struct StructAttrs {
    /// `table = "name"`.
    pub table: Option<LitStr>,
    /// Native triggers (`protect(...)`, `read_only(...)`, ...), in declaration order.
    pub triggers: Vec<crate::triggers::TriggerAttr>,
}

/// The attributes on one field. Flags hold the span of their key, for errors.
#[derive(Default)]
pub(crate) struct FieldAttrs {
    pub primary_key: Option<Span>,
    pub natural: Option<Span>,
    pub column: Option<LitStr>,
    pub unique: Option<Span>,
    pub index: Option<Span>,
    pub version: Option<Span>,
    pub default: Option<DefaultAttr>,
    pub references: Option<Path>,
    pub on_delete: Option<(OnDelete, Span)>,
}

/// A `default = <literal>`.
pub(crate) struct DefaultAttr {
    pub value: DefaultLit,
    /// The literal, for errors.
    pub span: Span,
}

/// The value of a `default`, checked and converted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DefaultLit {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
}

/// An `on_delete` action (mirrors `trigorm::schema::OnDelete`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnDelete {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

/// The attributes on an enum that derives `Field`.
#[derive(Default)]
pub(crate) struct EnumAttrs {
    /// `rename_all = "convention"`.
    pub rename_all: Option<Case>,
}

/// The attributes on one variant of an enum that derives `Field`.
#[derive(Default)]
pub(crate) struct VariantAttrs {
    /// `rename = "text"` (never empty).
    pub rename: Option<LitStr>,
}

impl StructAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = StructAttrs::default();
        for_each_key(attrs, |meta, key| match key {
            "table" => {
                let name = string(&meta, "table", "users")?;
                set(&mut out.table, name, &meta, key)
            }
            k if crate::triggers::KINDS.contains(&k) => {
                out.triggers.push(crate::triggers::parse(&meta, k)?);
                Ok(())
            }
            _ => Err(unknown(&meta, "struct", STRUCT_KEYS)),
        })?;
        Ok(out)
    }
}

impl FieldAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = FieldAttrs::default();
        for_each_key(attrs, |meta, key| match key {
            "primary_key" => flag(&mut out.primary_key, &meta, key),
            "natural" => flag(&mut out.natural, &meta, key),
            "unique" => flag(&mut out.unique, &meta, key),
            "index" => flag(&mut out.index, &meta, key),
            "version" => flag(&mut out.version, &meta, key),
            "column" => {
                let name = string(&meta, key, "user_name")?;
                set(&mut out.column, name, &meta, key)
            }
            "default" => {
                let value = default_value(&meta)?;
                set(&mut out.default, value, &meta, key)
            }
            "references" => {
                let path = meta.value()?.parse::<Path>().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`references` takes the referenced model's type, e.g. `references = User`",
                    )
                })?;
                set(&mut out.references, path, &meta, key)
            }
            "on_delete" => {
                let action = on_delete(&meta)?;
                set(&mut out.on_delete, action, &meta, key)
            }
            _ => Err(unknown(&meta, "field", FIELD_KEYS)),
        })?;
        Ok(out)
    }
}

impl EnumAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = EnumAttrs::default();
        for_each_key(attrs, |meta, key| match key {
            "rename_all" => {
                let case = rename_all(&meta)?;
                set(&mut out.rename_all, case, &meta, key)
            }
            _ => Err(unknown(&meta, "enum", ENUM_KEYS)),
        })?;
        Ok(out)
    }
}

impl VariantAttrs {
    pub(crate) fn parse(attrs: &[Attribute]) -> syn::Result<Self> {
        let mut out = VariantAttrs::default();
        for_each_key(attrs, |meta, key| match key {
            "rename" => {
                let text = string(&meta, key, "removed")?;
                if text.value().is_empty() {
                    return Err(syn::Error::new(
                        text.span(),
                        "`rename` takes a non-empty string: the text stored for this variant",
                    ));
                }
                set(&mut out.rename, text, &meta, key)
            }
            _ => Err(unknown(&meta, "variant", VARIANT_KEYS)),
        })?;
        Ok(out)
    }
}

/// Call `f` with every key of every `#[trigorm(...)]` attribute.
fn for_each_key(attrs: &[Attribute], mut f: impl FnMut(ParseNestedMeta, &str) -> syn::Result<()>) -> syn::Result<()> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("trigorm")) {
        attr.parse_nested_meta(|meta| {
            let key = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
            f(meta, &key)
        })?;
    }
    Ok(())
}

fn unknown(meta: &ParseNestedMeta, level: &str, expected: &str) -> syn::Error {
    let path = meta
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    meta.error(format_args!(
        "unknown trigorm {level} attribute `{path}`; expected one of: {expected}"
    ))
}

fn set<T>(slot: &mut Option<T>, value: T, meta: &ParseNestedMeta, key: &str) -> syn::Result<()> {
    if slot.is_some() {
        return Err(meta.error(format_args!("duplicate `{key}`: give it once")));
    }
    *slot = Some(value);
    Ok(())
}

fn flag(slot: &mut Option<Span>, meta: &ParseNestedMeta, key: &str) -> syn::Result<()> {
    if !(meta.input.is_empty() || meta.input.peek(Token![,])) {
        return Err(meta.error(format_args!("`{key}` is a flag and takes no value: write `{key}`")));
    }
    set(slot, meta.path.span(), meta, key)
}

fn string(meta: &ParseNestedMeta, key: &str, example: &str) -> syn::Result<LitStr> {
    meta.value()?.parse::<LitStr>().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("`{key}` takes a string, e.g. `{key} = \"{example}\"`"),
        )
    })
}

fn on_delete(meta: &ParseNestedMeta) -> syn::Result<(OnDelete, Span)> {
    let lit = string(meta, "on_delete", "cascade")?;
    let action = match lit.value().as_str() {
        "no_action" => OnDelete::NoAction,
        "restrict" => OnDelete::Restrict,
        "cascade" => OnDelete::Cascade,
        "set_null" => OnDelete::SetNull,
        "set_default" => OnDelete::SetDefault,
        other => {
            return Err(syn::Error::new(
                lit.span(),
                format!("unknown `on_delete` action {other:?}; expected one of {ON_DELETE_ACTIONS}"),
            ))
        }
    };
    Ok((action, lit.span()))
}

fn rename_all(meta: &ParseNestedMeta) -> syn::Result<Case> {
    let lit = string(meta, "rename_all", "snake_case")?;
    let name = lit.value();
    match Case::from_name(&name) {
        Some(case) => Ok(case),
        None => {
            let expected = Case::ALL.map(|(n, _)| format!("{n:?}")).join(", ");
            Err(syn::Error::new(
                lit.span(),
                format!("unknown `rename_all` convention {name:?}; expected one of {expected}"),
            ))
        }
    }
}

/// `default = <literal>`: an optional `-`, then an integer, float, bool or string literal.
fn default_value(meta: &ParseNestedMeta) -> syn::Result<DefaultAttr> {
    let input = meta.value()?;
    let mut tokens = TokenStream::new();
    while !input.is_empty() && !input.peek(Token![,]) {
        tokens.extend([input.parse::<TokenTree>()?]);
    }
    if tokens.is_empty() {
        return Err(meta.error(DEFAULT_FORMS));
    }
    let bad = |msg: &str| syn::Error::new_spanned(&tokens, msg);
    let signed_literal =
        |input: ParseStream| Ok((input.parse::<Option<Token![-]>>()?.is_some(), input.parse::<Lit>()?));
    let (negative, lit) = signed_literal.parse2(tokens.clone()).map_err(|_| bad(DEFAULT_FORMS))?;
    let value = match &lit {
        Lit::Int(i) if matches!(i.suffix(), "f32" | "f64") => float(i.base10_digits(), negative),
        Lit::Int(i) => i
            .base10_digits()
            .parse::<i128>()
            .ok()
            .and_then(|v| i64::try_from(if negative { -v } else { v }).ok())
            .map(DefaultLit::Int),
        Lit::Float(f) => float(f.base10_digits(), negative),
        Lit::Bool(b) if !negative => Some(DefaultLit::Bool(b.value)),
        Lit::Str(s) if !negative => Some(DefaultLit::Text(s.value())),
        _ => return Err(bad(DEFAULT_FORMS)),
    };
    let value =
        value.ok_or_else(|| bad("this `default` does not fit: integers must fit in i64, floats must be finite"))?;
    Ok(DefaultAttr {
        value,
        span: lit.span(),
    })
}

fn float(digits: &str, negative: bool) -> Option<DefaultLit> {
    let v = digits.parse::<f64>().ok().filter(|v| v.is_finite())?;
    Some(DefaultLit::Float(if negative { -v } else { v }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn field(attr: Attribute) -> syn::Result<FieldAttrs> {
        FieldAttrs::parse(&[attr])
    }

    fn default_of(attr: Attribute) -> DefaultLit {
        field(attr).unwrap().default.unwrap().value
    }

    #[test]
    fn flags_and_values() {
        let a = FieldAttrs::parse(&[
            parse_quote!(#[trigorm(primary_key, natural, column = "x")]),
            parse_quote!(#[trigorm(unique, index)]),
            parse_quote!(#[serde(rename = "y")]),
            parse_quote!(#[trigorm(references = crate::User, on_delete = "set_null")]),
        ])
        .unwrap();
        assert!(a.primary_key.is_some() && a.natural.is_some() && a.unique.is_some() && a.index.is_some());
        assert_eq!(a.column.unwrap().value(), "x");
        assert_eq!(a.references.unwrap().segments.len(), 2);
        assert_eq!(a.on_delete.unwrap().0, OnDelete::SetNull);
    }

    #[test]
    fn defaults() {
        assert_eq!(default_of(parse_quote!(#[trigorm(default = 7)])), DefaultLit::Int(7));
        assert_eq!(
            default_of(parse_quote!(#[trigorm(default = -7, unique)])),
            DefaultLit::Int(-7)
        );
        assert_eq!(
            default_of(parse_quote!(#[trigorm(default = -9223372036854775808)])),
            DefaultLit::Int(i64::MIN)
        );
        assert_eq!(
            default_of(parse_quote!(#[trigorm(default = 1.5)])),
            DefaultLit::Float(1.5)
        );
        assert_eq!(
            default_of(parse_quote!(#[trigorm(default = -2.5e3)])),
            DefaultLit::Float(-2500.0)
        );
        assert_eq!(
            default_of(parse_quote!(#[trigorm(default = 3f64)])),
            DefaultLit::Float(3.0)
        );
        assert_eq!(
            default_of(parse_quote!(#[trigorm(default = false)])),
            DefaultLit::Bool(false)
        );
        assert_eq!(
            default_of(parse_quote!(#[trigorm(default = "it's")])),
            DefaultLit::Text("it's".into())
        );
    }

    fn error(attr: Attribute) -> String {
        match field(attr) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn errors() {
        assert!(error(parse_quote!(#[trigorm(uniq)])).contains("unknown trigorm field attribute `uniq`"));
        assert!(error(parse_quote!(#[trigorm(a::b)])).contains("`a::b`"));
        assert!(error(parse_quote!(#[trigorm(unique, unique)])).contains("duplicate `unique`"));
        assert!(error(parse_quote!(#[trigorm(unique = true)])).contains("takes no value"));
        assert!(error(parse_quote!(#[trigorm(column = user_name)])).contains("`column` takes a string"));
        assert!(error(parse_quote!(#[trigorm(on_delete = "explode")])).contains("unknown `on_delete` action"));
        assert!(error(parse_quote!(#[trigorm(references = "User")])).contains("`references` takes"));
        assert!(error(parse_quote!(#[trigorm(default = now())])).contains("`default` takes"));
        assert!(error(parse_quote!(#[trigorm(default = -true)])).contains("`default` takes"));
        assert!(error(parse_quote!(#[trigorm(default = b"x")])).contains("`default` takes"));
        assert!(error(parse_quote!(#[trigorm(default = 9223372036854775808)])).contains("does not fit"));
        assert!(error(parse_quote!(#[trigorm(default = 1e999)])).contains("does not fit"));
        assert!(error(parse_quote!(#[trigorm(default)])).contains("expected `=`"));
        let s = StructAttrs::parse(&[parse_quote!(#[trigorm(primary_key)])]);
        assert!(s
            .err()
            .unwrap()
            .to_string()
            .contains("unknown trigorm struct attribute `primary_key`"));
    }

    fn enum_error(attr: Attribute) -> String {
        match EnumAttrs::parse(&[attr]) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    fn variant_error(attr: Attribute) -> String {
        match VariantAttrs::parse(&[attr]) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn enum_and_variant_attributes() {
        let e = EnumAttrs::parse(&[
            parse_quote!(#[serde(rename_all = "camelCase")]),
            parse_quote!(#[trigorm(rename_all = "SCREAMING_SNAKE_CASE")]),
        ])
        .unwrap();
        assert_eq!(e.rename_all, Some(Case::ScreamingSnake));
        assert!(EnumAttrs::parse(&[]).unwrap().rename_all.is_none());
        let v = VariantAttrs::parse(&[parse_quote!(#[trigorm(rename = "gone")])]).unwrap();
        assert_eq!(v.rename.unwrap().value(), "gone");

        assert!(enum_error(parse_quote!(#[trigorm(rename_al = "lowercase")]))
            .contains("unknown trigorm enum attribute `rename_al`; expected one of: `rename_all`"));
        assert!(enum_error(parse_quote!(#[trigorm(rename = "x")])).contains("unknown trigorm enum attribute `rename`"));
        assert!(enum_error(parse_quote!(#[trigorm(rename_all = "camelCase")]))
            .contains("unknown `rename_all` convention \"camelCase\"; expected one of \"lowercase\", \"UPPERCASE\""));
        assert!(enum_error(parse_quote!(#[trigorm(rename_all = snake_case)])).contains("`rename_all` takes a string"));
        assert!(
            enum_error(parse_quote!(#[trigorm(rename_all = "lowercase", rename_all = "UPPERCASE")]))
                .contains("duplicate `rename_all`")
        );
        assert!(variant_error(parse_quote!(#[trigorm(rename_all = "lowercase")]))
            .contains("unknown trigorm variant attribute `rename_all`; expected one of: `rename`"));
        assert!(variant_error(parse_quote!(#[trigorm(rename = "")])).contains("non-empty string"));
        assert!(variant_error(parse_quote!(#[trigorm(rename = 1)])).contains("`rename` takes a string"));
        assert!(variant_error(parse_quote!(#[trigorm(rename = "a", rename = "b")])).contains("duplicate `rename`"));
    }
}
