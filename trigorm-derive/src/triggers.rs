//! Native triggers declared on the struct: `#[trigorm(protect(...))]`, `read_only`,
//! `soft_delete`, `transitions`, `updated_at`, `version` and `custom`. Parsed here, checked
//! against the fields (an unknown field is a compile error at its name), and generated as
//! `Model::triggers`, which builds the same `trigorm::trigger::TriggerDef`s as the builder.

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::{Expr, GenericArgument, Ident, LitStr, PathArguments, Token, Type};

use crate::model::{Column, ModelDef};

/// The struct-level keys that declare a trigger.
pub(crate) const KINDS: [&str; 7] = [
    "protect",
    "read_only",
    "soft_delete",
    "transitions",
    "updated_at",
    "version",
    "custom",
];

/// One declared trigger, as written.
pub(crate) struct TriggerAttr {
    /// `name = "..."`; the kind's key when absent.
    pub name: Option<LitStr>,
    /// The kind's key, for the default name and errors.
    pub key: Ident,
    pub kind: Kind,
    /// `when = <condition>`: a Rust expression of type `trigorm::trigger::Cond`.
    pub when: Option<Expr>,
    /// `each_statement`: once per statement, not per row.
    pub each_statement: bool,
}

/// What the trigger does, with the fields it names.
pub(crate) enum Kind {
    Protect(Ops),
    ReadOnly(Vec<Ident>),
    SoftDelete {
        column: Ident,
        value: Expr,
    },
    Transitions {
        column: Ident,
        edges: Vec<(Expr, Expr)>,
    },
    UpdatedAt(Ident),
    Version(Ident),
    Custom {
        timing: Ident,
        ops: Ops,
        bodies: [Option<LitStr>; 3],
    },
}

/// `insert`, `update`, `delete` flags.
#[derive(Default, Clone, Copy)]
pub(crate) struct Ops {
    insert: bool,
    update: bool,
    delete: bool,
}

impl Ops {
    fn any(self) -> bool {
        self.insert || self.update || self.delete
    }

    /// Set the flag `key` (an operation's name); `false` when it was set already.
    fn set(&mut self, key: &str) -> bool {
        let slot = match key {
            "insert" => &mut self.insert,
            "update" => &mut self.update,
            _ => &mut self.delete,
        };
        !std::mem::replace(slot, true)
    }
}

const BACKENDS: [&str; 3] = ["sqlite", "postgres", "mysql"];

/// Parse the contents of `#[trigorm(<key>(...))]`, `key` one of [`KINDS`].
pub(crate) fn parse(meta: &ParseNestedMeta, key: &str) -> syn::Result<TriggerAttr> {
    let key_ident = meta.path.get_ident().cloned().unwrap_or_else(|| format_ident!("{key}"));
    let mut name = None;
    let mut when = None;
    let mut ops = Ops::default();
    let mut columns: Option<Vec<Ident>> = None;
    let mut column: Option<Ident> = None;
    let mut value: Option<Expr> = None;
    let mut edges: Option<Vec<(Expr, Expr)>> = None;
    let mut timing: Option<Ident> = None;
    let mut each_statement = false;
    let mut bodies: [Option<LitStr>; 3] = [None, None, None];
    let allowed = allowed_keys(key);
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format_args!(
            "`{key}` takes its settings in parentheses: {}",
            usage(key)
        )));
    }
    meta.parse_nested_meta(|inner| {
        let k = inner
            .path
            .get_ident()
            .map(|i| i.unraw().to_string())
            .unwrap_or_default();
        if !allowed.contains(&k.as_str()) {
            return Err(inner.error(format_args!(
                "unknown setting `{k}` of a `{key}` trigger; expected {}",
                allowed.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            )));
        }
        let twice = || inner.error(format_args!("duplicate `{k}`: give it once"));
        match k.as_str() {
            "name" => {
                let lit: LitStr = inner.value()?.parse()?;
                if name.replace(lit).is_some() {
                    return Err(twice());
                }
            }
            "when" => {
                let e: Expr = inner.value()?.parse()?;
                if when.replace(e).is_some() {
                    return Err(twice());
                }
            }
            "insert" | "update" | "delete" => {
                flag(&inner, &k)?;
                if !ops.set(&k) {
                    return Err(twice());
                }
            }
            "each_statement" => {
                flag(&inner, &k)?;
                if std::mem::replace(&mut each_statement, true) {
                    return Err(twice());
                }
            }
            "before" | "after" | "instead_of" => {
                flag(&inner, &k)?;
                if timing.replace(inner.path.require_ident()?.clone()).is_some() {
                    return Err(inner.error("give one timing: `before`, `after` or `instead_of`"));
                }
            }
            "columns" => {
                let content;
                syn::parenthesized!(content in inner.input);
                let list = content.parse_terminated(Ident::parse_any, Token![,])?;
                if columns.replace(list.into_iter().collect()).is_some() {
                    return Err(twice());
                }
            }
            "column" => {
                let id = inner.value()?.call(Ident::parse_any)?;
                if column.replace(id).is_some() {
                    return Err(twice());
                }
            }
            "value" => {
                let e: Expr = inner.value()?.parse()?;
                if value.replace(e).is_some() {
                    return Err(twice());
                }
            }
            "allow" => {
                let content;
                syn::parenthesized!(content in inner.input);
                if edges.replace(parse_edges(&content)?).is_some() {
                    return Err(twice());
                }
            }
            backend => {
                let i = BACKENDS.iter().position(|b| *b == backend).unwrap_or(0);
                let lit: LitStr = inner.value()?.parse()?;
                if bodies[i].replace(lit).is_some() {
                    return Err(twice());
                }
            }
        }
        Ok(())
    })?;
    let missing = |what: &str| meta.error(format_args!("a `{key}` trigger needs {what}: {}", usage(key)));
    let kind = match key {
        "protect" if !ops.any() => return Err(missing("the writes it refuses")),
        "protect" => Kind::Protect(ops),
        "read_only" => match columns {
            Some(c) if !c.is_empty() => Kind::ReadOnly(c),
            _ => return Err(missing("at least one column")),
        },
        "soft_delete" => Kind::SoftDelete {
            column: column.ok_or_else(|| missing("its column"))?,
            value: value.ok_or_else(|| missing("the value a delete sets"))?,
        },
        "transitions" => Kind::Transitions {
            column: column.ok_or_else(|| missing("its column"))?,
            edges: edges
                .filter(|e| !e.is_empty())
                .ok_or_else(|| missing("the allowed moves"))?,
        },
        "updated_at" => Kind::UpdatedAt(column.ok_or_else(|| missing("its column"))?),
        "version" => Kind::Version(column.ok_or_else(|| missing("its column"))?),
        _ => {
            if !ops.any() {
                return Err(missing("the writes it acts on"));
            }
            if bodies.iter().all(Option::is_none) {
                return Err(missing("a body for at least one backend"));
            }
            Kind::Custom {
                timing: timing.ok_or_else(|| missing("its timing"))?,
                ops,
                bodies,
            }
        }
    };
    Ok(TriggerAttr {
        name,
        key: key_ident,
        kind,
        when,
        each_statement,
    })
}

/// The settings each kind takes.
fn allowed_keys(key: &str) -> Vec<&'static str> {
    let mut keys = vec!["name", "when"];
    keys.extend_from_slice(match key {
        "protect" => &["insert", "update", "delete", "each_statement"][..],
        "read_only" => &["columns"],
        "soft_delete" => &["column", "value"],
        "transitions" => &["column", "allow"],
        "updated_at" | "version" => &["column"],
        _ => &[
            "before",
            "after",
            "instead_of",
            "insert",
            "update",
            "delete",
            "each_statement",
            "sqlite",
            "postgres",
            "mysql",
        ],
    });
    keys
}

fn usage(key: &str) -> &'static str {
    match key {
        "protect" => "e.g. `protect(name = \"append_only\", update, delete)`",
        "read_only" => "e.g. `read_only(name = \"fixed\", columns(created_at))`",
        "soft_delete" => "e.g. `soft_delete(column = deleted, value = true)`",
        "transitions" => "e.g. `transitions(column = state, allow(Draft -> Sent, Sent -> Paid))`",
        "updated_at" => "e.g. `updated_at(column = updated_at)`",
        "version" => "e.g. `version(column = version)`",
        _ => "e.g. `custom(name = \"audit\", after, insert, sqlite = \"...\", postgres = \"...\", mysql = \"...\")`",
    }
}

fn flag(meta: &ParseNestedMeta, key: &str) -> syn::Result<()> {
    if meta.input.is_empty() || meta.input.peek(Token![,]) {
        Ok(())
    } else {
        Err(meta.error(format_args!("`{key}` is a flag and takes no value: write `{key}`")))
    }
}

/// `from -> to, ...`: each side an expression (a bare variant name is the column type's).
fn parse_edges(input: ParseStream) -> syn::Result<Vec<(Expr, Expr)>> {
    let mut edges = Vec::new();
    while !input.is_empty() {
        let from = side(input, true)?;
        let to = side(input, false)?;
        edges.push((from, to));
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(edges)
}

/// The tokens up to `->` (the `from` side) or to `,` (the `to` side), as an expression.
fn side(input: ParseStream, from: bool) -> syn::Result<Expr> {
    let mut tokens = TokenStream::new();
    loop {
        if input.is_empty() || input.peek(Token![,]) {
            if from {
                return Err(input.error("expected `from -> to`, e.g. `Draft -> Sent`"));
            }
            break;
        }
        if from && input.peek(Token![->]) {
            input.parse::<Token![->]>()?;
            break;
        }
        tokens.extend([input.parse::<TokenTree>()?]);
    }
    if tokens.is_empty() {
        return Err(input.error("expected a state, e.g. `Draft -> Sent`"));
    }
    syn::parse2(tokens)
}

/// Check the fields the declarations name, and their names: an unknown field, or two
/// triggers of one name, is a compile error.
pub(crate) fn check(m: &ModelDef, triggers: &[TriggerAttr]) -> syn::Result<()> {
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    let mut names: Vec<String> = Vec::new();
    for t in triggers {
        let name = trigger_name(t);
        if names.contains(&name) {
            let span = t.name.as_ref().map_or(t.key.span(), LitStr::span);
            push(syn::Error::new(
                span,
                format!("two triggers of {} are named {name:?}; give one another `name`", m.name),
            ));
        }
        names.push(name.clone());
        for id in named_fields(t) {
            if column_of(m, id).is_none() {
                push(syn::Error::new(
                    id.span(),
                    format!("trigger {name:?}: {} has no field `{}`", m.name, id.unraw()),
                ));
            }
        }
        if let Some(lit) = &t.name {
            if let Some(suffix) = SUFFIXES.iter().find(|s| lit.value().ends_with(*s)) {
                push(syn::Error::new(
                    lit.span(),
                    format!(
                        "trigger name {:?} ends with {suffix:?}, which trigorm adds to its database triggers' names",
                        lit.value()
                    ),
                ));
            }
            if crate::names::identifier_problem(&lit.value()).is_some() {
                push(syn::Error::new(
                    lit.span(),
                    format!(
                        "trigger name {:?} is no plain SQL identifier (letters, digits, `_`)",
                        lit.value()
                    ),
                ));
            }
        }
    }
    errors.map_or(Ok(()), Err)
}

fn named_fields(t: &TriggerAttr) -> Vec<&Ident> {
    match &t.kind {
        Kind::ReadOnly(cols) => cols.iter().collect(),
        Kind::SoftDelete { column, .. } | Kind::Transitions { column, .. } => vec![column],
        Kind::UpdatedAt(c) | Kind::Version(c) => vec![c],
        Kind::Protect(_) | Kind::Custom { .. } => vec![],
    }
}

/// The declared name: `name = "..."`, else the kind's key (`soft_delete`: `soft`, which
/// keeps clear of the `_delete` trigorm adds to a delete trigger's name).
fn trigger_name(t: &TriggerAttr) -> String {
    t.name.as_ref().map_or_else(
        || match t.key.unraw().to_string().as_str() {
            "soft_delete" => "soft".to_string(),
            key => key.to_string(),
        },
        LitStr::value,
    )
}

/// What trigorm adds to a declared name in the database (`trigorm::trigger` refuses a
/// declared name that ends with one).
const SUFFIXES: [&str; 5] = ["_insert", "_update", "_delete", "_truncate", "_fn"];

fn column_of<'m>(m: &'m ModelDef, id: &Ident) -> Option<&'m Column<'m>> {
    let field = id.unraw().to_string();
    m.columns.iter().find(|c| c.field == field)
}

/// `fn triggers()` of the generated impl (nothing when none is declared: the trait's
/// provided method returns none).
pub(crate) fn generate(m: &ModelDef, triggers: &[TriggerAttr]) -> TokenStream {
    if triggers.is_empty() {
        return TokenStream::new();
    }
    let defs = triggers.iter().map(|t| one(m, t));
    quote! {
        fn triggers() -> ::std::vec::Vec<::trigorm::trigger::TriggerDef> {
            ::std::vec![#(#defs),*]
        }
    }
}

fn one(m: &ModelDef, t: &TriggerAttr) -> TokenStream {
    let name = trigger_name(t);
    let span = t.key.span();
    let table = quote!(<Self as ::trigorm::Model>::table());
    let def = quote!(::trigorm::trigger::TriggerDef);
    let konst = |id: &Ident| {
        let field = id.unraw().to_string();
        let k = format_ident!("{}", field.to_uppercase(), span = id.span());
        quote!(Self::#k)
    };
    let made = match &t.kind {
        Kind::Protect(ops) => {
            let ops = ops_tokens(*ops);
            quote_spanned!(span=> #def::protect(#name, #table, #ops))
        }
        Kind::ReadOnly(cols) => {
            let cols = cols.iter().map(&konst);
            quote_spanned!(span=> #def::read_only(#name, #table, [#(#cols.name()),*]))
        }
        Kind::SoftDelete { column, value } => {
            let col = konst(column);
            quote_spanned!(span=> #def::soft_delete(#name, #table, #col, #value))
        }
        Kind::Transitions { column, edges } => {
            let col = konst(column);
            let ty = column_of(m, column).map(|c| c.ty);
            let edges = edges.iter().map(|(from, to)| {
                let (from, to) = (state(from, ty), state(to, ty));
                quote!((#from, #to))
            });
            quote_spanned!(span=> #def::transitions(#name, #table, #col, [#(#edges),*]))
        }
        Kind::UpdatedAt(column) => {
            let col = konst(column);
            quote_spanned!(span=> #def::updated_at(#name, #table, #col))
        }
        Kind::Version(column) => {
            let col = konst(column);
            quote_spanned!(span=> #def::version(#name, #table, #col))
        }
        Kind::Custom { timing, ops, bodies } => {
            let timing = match timing.to_string().as_str() {
                "before" => quote!(Before),
                "after" => quote!(After),
                _ => quote!(InsteadOf),
            };
            let ops = ops_tokens(*ops);
            let body = |b: &Option<LitStr>| match b {
                Some(lit) => quote!(::core::option::Option::Some(::std::string::String::from(#lit))),
                None => quote!(::core::option::Option::None),
            };
            let [sqlite, postgres, mysql] = [body(&bodies[0]), body(&bodies[1]), body(&bodies[2])];
            quote_spanned! {span=>
                #def::custom(#name, #table, ::trigorm::trigger::Timing::#timing, #ops,
                    ::trigorm::trigger::CustomBodies { sqlite: #sqlite, postgres: #postgres, mysql: #mysql })
            }
        }
    };
    let made = match &t.when {
        Some(cond) => quote!(#made.when(#cond)),
        None => made,
    };
    if t.each_statement {
        quote!(#made.for_each_statement())
    } else {
        made
    }
}

fn ops_tokens(ops: Ops) -> TokenStream {
    let Ops { insert, update, delete } = ops;
    quote!(::trigorm::trigger::Ops { insert: #insert, update: #update, delete: #delete })
}

/// A state of a transition: a bare name is a variant of the column's type (of the type
/// inside an `Option`, wrapped in `Some`; `None` there is `None`); anything else is taken
/// as written.
fn state(e: &Expr, ty: Option<&Type>) -> TokenStream {
    let (Expr::Path(p), Some(ty)) = (e, ty) else {
        return quote!(#e);
    };
    let Some(variant) = p.path.get_ident().filter(|_| p.qself.is_none() && p.attrs.is_empty()) else {
        return quote!(#e);
    };
    match option_inner(ty) {
        Some(_) if variant == "None" => quote_spanned!(variant.span()=> ::core::option::Option::None),
        Some(inner) => quote_spanned!(variant.span()=> ::core::option::Option::Some(<#inner>::#variant)),
        None => quote_spanned!(variant.span()=> <#ty>::#variant),
    }
}

fn option_inner(ty: &Type) -> Option<&Type> {
    let Type::Path(p) = ty else { return None };
    let last = p.path.segments.last().filter(|s| s.ident == "Option")?;
    match &last.arguments {
        PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attr::StructAttrs;
    use syn::parse_quote;

    fn parsed(attr: syn::Attribute) -> syn::Result<Vec<TriggerAttr>> {
        StructAttrs::parse(&[attr]).map(|s| s.triggers)
    }

    fn error(attr: syn::Attribute) -> String {
        match parsed(attr) {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_every_kind() {
        let t = parsed(parse_quote!(#[trigorm(
            protect(name = "keep", update, delete),
            read_only(columns(created_at, owner)),
            soft_delete(column = deleted, value = true),
            transitions(name = "flow", column = state, allow(Draft -> Sent, State::Sent -> Some(x))),
            updated_at(column = updated),
            version(column = version, when = changed(Self::NAME)),
            custom(name = "audit", after, insert, update, sqlite = "SELECT 1;", mysql = "DO 1;")
        )]))
        .unwrap();
        assert_eq!(t.len(), 7);
        assert!(matches!(&t[0].kind, Kind::Protect(o) if !o.insert && o.update && o.delete));
        assert!(matches!(&t[1].kind, Kind::ReadOnly(c) if c.len() == 2));
        assert_eq!(trigger_name(&t[1]), "read_only");
        assert!(matches!(&t[3].kind, Kind::Transitions { edges, .. } if edges.len() == 2));
        assert!(t[5].when.is_some());
        assert!(matches!(&t[6].kind, Kind::Custom { timing, bodies, .. }
            if timing == "after" && bodies[0].is_some() && bodies[1].is_none()));
    }

    #[test]
    fn errors() {
        assert!(error(parse_quote!(#[trigorm(protect(name = "x"))])).contains("needs the writes it refuses"));
        assert!(error(parse_quote!(#[trigorm(protect)])).contains("takes its settings in parentheses"));
        assert!(error(parse_quote!(#[trigorm(protect(update, update))])).contains("duplicate `update`"));
        assert!(error(parse_quote!(#[trigorm(protect(columns(a)))])).contains("unknown setting `columns`"));
        assert!(error(parse_quote!(#[trigorm(read_only(columns()))])).contains("at least one column"));
        assert!(error(parse_quote!(#[trigorm(soft_delete(column = d))])).contains("the value a delete sets"));
        assert!(error(parse_quote!(#[trigorm(transitions(column = s, allow()))])).contains("the allowed moves"));
        assert!(error(parse_quote!(#[trigorm(transitions(column = s, allow(A B)))])).contains("from -> to"));
        assert!(error(parse_quote!(#[trigorm(custom(after, insert))])).contains("a body for at least one"));
        assert!(error(parse_quote!(#[trigorm(custom(insert, sqlite = "x"))])).contains("needs its timing"));
        assert!(error(parse_quote!(#[trigorm(custom(before, after, insert, sqlite = "x"))])).contains("one timing"));
        assert!(error(parse_quote!(#[trigorm(custom(after, insert = true, sqlite = "x"))])).contains("is a flag"));
    }
}
