//! `#[derive(Field)]` for an enum of unit variants: read the enum into an [`EnumDef`]
//! (one stored text per variant), check it, and generate an `impl ::trigorm::Field` that
//! stores each variant as a `TEXT` value.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Fields, Ident};

use crate::attr::{EnumAttrs, VariantAttrs};
use crate::model::Errors;

/// Expand `#[derive(Field)]` on `input`.
pub(crate) fn expand(input: &DeriveInput) -> syn::Result<TokenStream> {
    let def = EnumDef::from_input(input)?;
    Ok(generate(&def))
}

/// A checked enum: everything the generated code needs.
pub(crate) struct EnumDef<'a> {
    /// The enum.
    pub ident: &'a Ident,
    /// The enum's name as a string (without `r#`), as decode errors name it.
    pub name: String,
    /// The variants, in declaration order.
    pub variants: Vec<Variant<'a>>,
}

/// One variant and the text it is stored as.
pub(crate) struct Variant<'a> {
    /// The variant.
    pub ident: &'a Ident,
    /// The stored text: `rename`, else the variant's name under `rename_all`, else the
    /// variant's name as written (without `r#`). Never empty; unique within the enum.
    pub text: String,
}

impl<'a> EnumDef<'a> {
    pub(crate) fn from_input(input: &'a DeriveInput) -> syn::Result<Self> {
        let not_enum = "Field can only be derived for an enum whose variants have no fields";
        let data = match &input.data {
            Data::Enum(e) => e,
            Data::Struct(s) => {
                return Err(syn::Error::new(
                    s.struct_token.span,
                    format!("{not_enum}, not a struct; implement `trigorm::Field` by hand for other types"),
                ))
            }
            Data::Union(u) => {
                return Err(syn::Error::new(
                    u.union_token.span,
                    format!("{not_enum}, not a union; implement `trigorm::Field` by hand for other types"),
                ))
            }
        };
        crate::model::reject_generics(input, "Field", ("a generic enum", "an enum"))?;
        if data.variants.is_empty() {
            return Err(syn::Error::new_spanned(
                &input.ident,
                "Field cannot be derived for an enum with no variants: it would have no value to store",
            ));
        }
        let attrs = EnumAttrs::parse(&input.attrs)?;

        let mut errors = Errors::default();
        let mut variants: Vec<Variant> = Vec::with_capacity(data.variants.len());
        for variant in &data.variants {
            match read_variant(variant, &attrs, &variants) {
                Ok(v) => variants.push(v),
                Err(e) => errors.push(e),
            }
        }
        errors.finish()?;
        Ok(EnumDef {
            ident: &input.ident,
            name: input.ident.unraw().to_string(),
            variants,
        })
    }
}

/// One variant's text, checked against the variants before it.
fn read_variant<'a>(variant: &'a syn::Variant, attrs: &EnumAttrs, before: &[Variant]) -> syn::Result<Variant<'a>> {
    let name = variant.ident.unraw().to_string();
    if !matches!(variant.fields, Fields::Unit) {
        return Err(syn::Error::new_spanned(
            &variant.fields,
            format!(
                "Field can only be derived for an enum whose variants have no fields, and variant `{name}` has \
                 fields: each variant is stored as a text"
            ),
        ));
    }
    let rename = VariantAttrs::parse(&variant.attrs)?.rename;
    let (text, span): (String, Span) = match &rename {
        Some(lit) => (lit.value(), lit.span()),
        None => (
            attrs.rename_all.map_or_else(|| name.clone(), |case| case.apply(&name)),
            variant.ident.span(),
        ),
    };
    if let Some(other) = before.iter().find(|v| v.text == text) {
        return Err(syn::Error::new(
            span,
            format!(
                "variant `{name}` would be stored as {text:?}, the text of variant `{}`; give one of them \
                 another text with #[trigorm(rename = \"...\")]",
                other.ident.unraw()
            ),
        ));
    }
    Ok(Variant {
        ident: &variant.ident,
        text,
    })
}

/// `impl ::trigorm::Field`: every variant written as its static text (no allocation on
/// the write path), read back from exactly that text.
pub(crate) fn generate(def: &EnumDef) -> TokenStream {
    let ident = def.ident;
    let name = &def.name;
    let variant: Vec<_> = def.variants.iter().map(|v| v.ident).collect();
    let text: Vec<_> = def.variants.iter().map(|v| v.text.as_str()).collect();
    let as_text = quote! {
        match self {
            #(Self::#variant => #text,)*
        }
    };
    quote! {
        #[automatically_derived]
        impl ::trigorm::Field for #ident {
            const TYPE: ::trigorm::schema::ColumnType = ::trigorm::schema::ColumnType::Text;
            const MAY_BE_NAN: ::core::primitive::bool = false;
            const BINDS_ONE: ::core::primitive::bool = true;

            fn bind(&self, b: &mut dyn ::trigorm::Binder) {
                let text: &'static ::core::primitive::str = #as_text;
                b.text(text);
            }

            fn to_value(&self) -> ::trigorm::Value {
                let text: &'static ::core::primitive::str = #as_text;
                ::trigorm::Value::Text(::std::string::String::from(text))
            }

            fn to_value_ref(&self) -> ::trigorm::ValueRef<'_> {
                let text: &'static ::core::primitive::str = #as_text;
                ::trigorm::ValueRef::Text(text)
            }

            fn from_value(
                value: ::trigorm::Value,
            ) -> ::core::result::Result<Self, ::trigorm::value::ValueError> {
                <Self as ::trigorm::Field>::from_value_ref(&::trigorm::Value::as_value_ref(&value))
            }

            fn from_value_ref(
                value: &::trigorm::ValueRef<'_>,
            ) -> ::core::result::Result<Self, ::trigorm::value::ValueError> {
                let text: ::core::option::Option<&::core::primitive::str> = match value {
                    ::trigorm::ValueRef::Text(text) => ::core::option::Option::Some(*text),
                    ::trigorm::ValueRef::Owned(::trigorm::Value::Text(text)) => {
                        ::core::option::Option::Some(::std::string::String::as_str(text))
                    }
                    _ => ::core::option::Option::None,
                };
                match text {
                    #(::core::option::Option::Some(#text) => ::core::result::Result::Ok(Self::#variant),)*
                    _ => {
                        let value = ::trigorm::ValueRef::to_value(value);
                        ::core::result::Result::Err(::trigorm::value::ValueError {
                            expected: #name,
                            found: ::std::format!(
                                "{} {}",
                                ::trigorm::Value::kind(&value),
                                ::trigorm::Value::display_short(&value),
                            ),
                        })
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use syn::parse_quote;

    fn texts(input: DeriveInput) -> Vec<(String, String)> {
        match EnumDef::from_input(&input) {
            Ok(def) => def
                .variants
                .iter()
                .map(|v| (v.ident.to_string(), v.text.clone()))
                .collect(),
            Err(e) => panic!("expected an enum, got {e}"),
        }
    }

    fn error(input: DeriveInput) -> String {
        match expand(&input) {
            Ok(tokens) => panic!("expected an error, got {tokens}"),
            Err(e) => e.into_iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"),
        }
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected.iter().map(|(v, t)| (v.to_string(), t.to_string())).collect()
    }

    #[test]
    fn reads_the_texts() {
        assert_eq!(
            texts(parse_quote! {
                enum ChangeType { Insert, Update, #[trigorm(rename = "removed")] Delete, r#Type, HttpRequest }
            }),
            pairs(&[
                ("Insert", "Insert"),
                ("Update", "Update"),
                ("Delete", "removed"),
                ("r#Type", "Type"),
                ("HttpRequest", "HttpRequest"),
            ])
        );
        assert_eq!(
            texts(parse_quote! {
                #[trigorm(rename_all = "snake_case")]
                enum ChangeType { Insert, HttpRequest, #[trigorm(rename = "Gone Away")] Delete, A = 7 }
            }),
            pairs(&[
                ("Insert", "insert"),
                ("HttpRequest", "http_request"),
                ("Delete", "Gone Away"),
                ("A", "a"),
            ])
        );
        let conventions = [
            ("lowercase", "userid2fa"),
            ("UPPERCASE", "USERID2FA"),
            ("snake_case", "user_id2_fa"),
            ("SCREAMING_SNAKE_CASE", "USER_ID2_FA"),
            ("kebab-case", "user-id2-fa"),
        ];
        for (case, expected) in conventions {
            let input: DeriveInput = parse_quote! {
                #[trigorm(rename_all = #case)]
                enum E { UserId2Fa }
            };
            assert_eq!(texts(input), pairs(&[("UserId2Fa", expected)]), "{case}");
        }
    }

    #[test]
    fn generates_the_impl() {
        let input: DeriveInput = parse_quote! {
            #[trigorm(rename_all = "kebab-case")]
            enum ChangeType { Insert, #[trigorm(rename = "removed")] Delete }
        };
        let tokens = expand(&input).unwrap();
        let file: syn::File = syn::parse2(tokens.clone()).unwrap();
        assert_eq!(file.items.len(), 1);
        let text = tokens.to_string();
        assert!(text.contains("impl :: trigorm :: Field for ChangeType"), "{text}");
        assert!(text.contains(":: trigorm :: schema :: ColumnType :: Text"), "{text}");
        assert!(text.contains("Self :: Insert => \"insert\""), "{text}");
        assert!(text.contains("Self :: Delete => \"removed\""), "{text}");
        assert!(
            text.contains("Some (\"removed\") => :: core :: result :: Result :: Ok (Self :: Delete)"),
            "{text}"
        );
        assert!(text.contains("expected : \"ChangeType\""), "{text}");
    }

    #[test]
    fn shape_errors() {
        assert!(error(parse_quote!(
            struct S {
                id: i64,
            }
        ))
        .contains("not a struct"));
        assert!(error(parse_quote!(
            struct T(i64);
        ))
        .contains("not a struct"));
        assert!(error(parse_quote!(union U { id: i64 })).contains("not a union"));
        assert!(error(parse_quote!(
            enum E {}
        ))
        .contains("no variants"));
        assert!(error(parse_quote!(
            enum G<T> {
                A,
            }
        ))
        .contains("generic enum"));
        assert!(error(parse_quote!(
            enum G<const N: usize> {
                A,
            }
        ))
        .contains("generic enum"));
        assert!(error(parse_quote!(
            enum W
            where
                i64: Copy,
            {
                A,
            }
        ))
        .contains("where clause"));
    }

    #[test]
    fn reports_every_variant_error() {
        let e = error(parse_quote!(
            enum E {
                A(i64),
                B {
                    x: i64,
                },
                #[trigorm(bogus)]
                C,
                #[trigorm(rename = "")]
                D,
                #[trigorm(rename = "A")]
                F,
            }
        ));
        assert!(e.contains("variant `A` has fields"), "{e}");
        assert!(e.contains("variant `B` has fields"), "{e}");
        assert!(e.contains("unknown trigorm variant attribute `bogus`"), "{e}");
        assert!(e.contains("non-empty string"), "{e}");
        // `A` had fields, so it has no text to collide with.
        assert!(!e.contains("variant `F`"), "{e}");
    }

    #[test]
    fn duplicate_texts() {
        let e = error(parse_quote!(
            enum E {
                Insert,
                #[trigorm(rename = "Insert")]
                Add,
            }
        ));
        assert!(
            e.contains("variant `Add` would be stored as \"Insert\", the text of variant `Insert`"),
            "{e}"
        );
        let e = error(parse_quote!(
            #[trigorm(rename_all = "snake_case")]
            enum E {
                HttpRequest,
                HTTPRequest,
            }
        ));
        assert!(
            e.contains("variant `HTTPRequest` would be stored as \"http_request\""),
            "{e}"
        );
        // Texts are compared exactly: these differ in case only, and both load.
        assert_eq!(
            texts(parse_quote!(
                enum E {
                    #[trigorm(rename = "a")]
                    Lower,
                    #[trigorm(rename = "A")]
                    Upper,
                }
            ))
            .len(),
            2
        );
    }

    #[test]
    fn enum_attribute_errors() {
        assert!(error(parse_quote!(
            #[trigorm(table = "x")]
            enum E {
                A,
            }
        ))
        .contains("unknown trigorm enum attribute `table`; expected one of: `rename_all`"));
        assert!(error(parse_quote!(
            #[trigorm(rename_all = "camelCase")]
            enum E {
                A,
            }
        ))
        .contains("unknown `rename_all` convention \"camelCase\""));
    }
}
