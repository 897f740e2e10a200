//! The generated `impl ::trigorm::Model`, from a checked [`ModelDef`].

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Path;

use crate::attr::{DefaultAttr, DefaultLit, OnDelete};
use crate::model::{Column, ModelDef};

/// The impl, plus compile-time checks that need the field types.
pub(crate) fn generate(m: &ModelDef) -> TokenStream {
    let ident = m.ident;
    let table = table_fn(m);
    let model = &m.name;
    let count = Literal::usize_unsuffixed(m.columns.len());
    let wrong_length = format!("a row of {model} needs {count} values, got {{}}");
    // The check of `from_values`, `from_row` and `read_row`, whose argument is `values`.
    let consts = column_consts(m);
    let length_check = quote! {
        if values.len() != #count {
            return ::core::result::Result::Err(::trigorm::Error::InvalidModel {
                model: #model,
                reason: ::std::format!(#wrong_length, values.len()),
            });
        }
    };
    let index: Vec<_> = (0..m.columns.len()).map(Literal::usize_unsuffixed).collect();
    let member: Vec<_> = m.columns.iter().map(|c| c.member).collect();
    let field: Vec<_> = m.columns.iter().map(field_trait).collect();
    let decode_error: Vec<_> = m.columns.iter().map(|c| decode_error(model, c)).collect();
    let checks = checks(m);
    let triggers = crate::triggers::generate(m, &m.triggers);
    // `bind_insert`: every column in order, the primary key only `with_key`.
    // A field not known to bind exactly one parameter is checked right after it binds.
    let insert_binds = m.columns.iter().enumerate().map(|(i, c)| {
        let member = c.member;
        let field = field_trait(c);
        let bind = quote! {
            #field::bind(&self.#member, b);
            bound += 1;
            if !#field::BINDS_ONE {
                b.expect_bound(bound);
            }
        };
        if i == m.primary_key {
            quote!(if with_key { #bind })
        } else {
            bind
        }
    });
    quote! {
        #[automatically_derived]
        impl ::trigorm::Model for #ident {
            #table

            #triggers

            fn values(&self) -> ::std::vec::Vec<::trigorm::Value> {
                ::std::vec![#(#field::to_value(&self.#member)),*]
            }

            fn value(&self, column: ::core::primitive::usize) -> ::trigorm::Value {
                match column {
                    #(#index => #field::to_value(&self.#member),)*
                    _ => ::trigorm::Value::Null,
                }
            }

            #[inline]
            fn value_ref(&self, column: ::core::primitive::usize) -> ::trigorm::ValueRef<'_> {
                match column {
                    #(#index => #field::to_value_ref(&self.#member),)*
                    _ => ::trigorm::ValueRef::Null,
                }
            }

            const MAY_BE_NAN: ::core::primitive::bool = false #(|| #field::MAY_BE_NAN)*;
            const BINDS_ONE_PER_COLUMN: ::core::primitive::bool = true #(&& #field::BINDS_ONE)*;

            #[inline]
            fn bind_column(&self, column: ::core::primitive::usize, b: &mut dyn ::trigorm::Binder) {
                match column {
                    #(#index => #field::bind(&self.#member, b),)*
                    _ => b.null(),
                }
            }

            #[inline]
            fn bind_insert(&self, with_key: ::core::primitive::bool, b: &mut dyn ::trigorm::Binder) {
                let mut bound: ::core::primitive::usize = 0;
                #(#insert_binds)*
                let _ = bound;
            }

            fn from_values(
                values: &mut [::trigorm::Value],
            ) -> ::core::result::Result<Self, ::trigorm::Error> {
                #length_check
                ::core::result::Result::Ok(Self {
                    #(#member: #field::from_value(::core::mem::take(&mut values[#index])).map_err(#decode_error)?,)*
                })
            }

            fn from_row(
                values: &[::trigorm::ValueRef<'_>],
            ) -> ::core::result::Result<Self, ::trigorm::Error> {
                #length_check
                ::core::result::Result::Ok(Self {
                    #(#member: #field::from_value_ref(&values[#index]).map_err(#decode_error)?,)*
                })
            }

            #[inline]
            fn read_row(
                &mut self,
                values: &[::trigorm::ValueRef<'_>],
            ) -> ::core::result::Result<(), ::trigorm::Error> {
                #length_check
                #(#field::read_from(&mut self.#member, &values[#index]).map_err(#decode_error)?;)*
                ::core::result::Result::Ok(())
            }

            #[inline]
            fn normalize(&mut self) {
                #(#field::normalize(&mut self.#member);)*
            }

            #[inline]
            fn diff(&self, other: &Self) -> ::trigorm::ColumnSet {
                let mut changed = ::trigorm::ColumnSet::EMPTY;
                #(
                    if ::core::cmp::PartialEq::ne(&self.#member, &other.#member) {
                        changed.insert(#index);
                    }
                )*
                changed
            }

            #[inline]
            fn copy_columns(
                &mut self,
                other: &Self,
                columns: ::trigorm::ColumnSet,
            ) -> ::core::result::Result<(), ::trigorm::Error> {
                #(
                    if columns.contains(#index) {
                        ::core::clone::Clone::clone_from(&mut self.#member, &other.#member);
                    }
                )*
                ::core::result::Result::Ok(())
            }

            fn check_value(
                column: ::core::primitive::usize,
                value: &::trigorm::ValueRef<'_>,
            ) -> ::core::result::Result<(), ::trigorm::Error> {
                match column {
                    #(#index => #field::from_value_ref(value).map(::core::mem::drop).map_err(#decode_error),)*
                    _ => ::core::result::Result::Ok(()),
                }
            }

            #[inline]
            fn set_value(
                &mut self,
                column: ::core::primitive::usize,
                value: ::trigorm::Value,
            ) -> ::core::result::Result<(), ::trigorm::Error> {
                match column {
                    #(#index => self.#member = #field::from_value(value).map_err(#decode_error)?,)*
                    _ => {
                        return ::core::result::Result::Err(::trigorm::Error::InvalidModel {
                            model: #model,
                            reason: ::std::format!("no column with index {}", column),
                        })
                    }
                }
                ::core::result::Result::Ok(())
            }
        }

        #checks

        #consts
    }
}

/// One typed column per field, named after it in capitals (`User::NAME`): a misspelt
/// column does not compile, nor does a comparison with a value of another type.
fn column_consts(m: &ModelDef) -> TokenStream {
    let ident = m.ident;
    let consts = m.columns.iter().enumerate().map(|(i, c)| {
        let konst = format_ident!("{}", c.field.to_uppercase(), span = c.member.span());
        let (ty, name) = (c.ty, &c.name);
        let index = Literal::usize_unsuffixed(i);
        let doc = format!("The column `{name}` (field `{}`).", c.field);
        quote! {
            #[doc = #doc]
            pub const #konst: ::trigorm::query::Column<#ident, #ty> = ::trigorm::query::Column::new(#name, #index);
        }
    });
    quote! {
        #[automatically_derived]
        #[allow(dead_code, private_interfaces)]
        impl #ident {
            #(#consts)*
        }
    }
}

/// `<T as ::trigorm::Field>`, spanned on the field type so that a type that is not a
/// `Field` is reported there.
fn field_trait(c: &Column) -> TokenStream {
    let ty = c.ty;
    quote_spanned!(ty.span()=> <#ty as ::trigorm::Field>)
}

fn decode_error(model: &str, c: &Column) -> TokenStream {
    let column = &c.name;
    quote!(|source| ::trigorm::Error::Decode { model: #model, column: #column, source })
}

/// `fn table()`: the `TableDef` as a static.
fn table_fn(m: &ModelDef) -> TokenStream {
    let (name, model) = (&m.table, &m.name);
    let primary_key = Literal::usize_unsuffixed(m.primary_key);
    let columns = m.columns.iter().enumerate().map(|(i, c)| column_def(m, i, c));
    quote! {
        fn table() -> &'static ::trigorm::schema::TableDef {
            static TABLE: ::trigorm::schema::TableDef = ::trigorm::schema::TableDef {
                name: #name,
                model: #model,
                columns: &[#(#columns),*],
                primary_key: #primary_key,
            };
            &TABLE
        }
    }
}

/// One `ColumnDef`: `ColumnDef::new(..)` plus the fields that differ from its defaults.
fn column_def(m: &ModelDef, i: usize, c: &Column) -> TokenStream {
    let (name, field) = (&c.name, &c.field);
    let ty = field_trait(c);
    let mut set = vec![quote!(nullable: #ty::NULLABLE,)];
    if i == m.primary_key {
        set.push(quote!(primary_key: true,));
        if !m.natural {
            set.push(quote!(
                auto_increment: ::core::matches!(#ty::TYPE, ::trigorm::schema::ColumnType::Integer),
            ));
        }
    }
    if c.unique {
        set.push(quote!(unique: true,));
    }
    if c.index {
        set.push(quote!(index: true,));
    }
    if c.version.is_some() {
        set.push(quote!(version: true,));
    }
    if let Some(d) = &c.default {
        let value = default_value(&d.value);
        set.push(quote!(default: ::core::option::Option::Some(#value),));
    }
    if let Some((path, on_delete)) = &c.references {
        let table = referenced_table(m, path);
        let on_delete = on_delete_variant(*on_delete);
        set.push(
            quote!(references: ::core::option::Option::Some(::trigorm::schema::ForeignKeyDef {
            table: #table,
            on_delete: ::trigorm::schema::OnDelete::#on_delete,
        }),),
        );
    }
    quote! {
        ::trigorm::schema::ColumnDef {
            #(#set)*
            ..::trigorm::schema::ColumnDef::new(#name, #field, #ty::TYPE)
        }
    }
}

fn default_value(value: &DefaultLit) -> TokenStream {
    match value {
        DefaultLit::Int(v) => quote!(::trigorm::schema::DefaultValue::Int(#v)),
        DefaultLit::Float(v) => {
            let v = Literal::f64_suffixed(*v);
            quote!(::trigorm::schema::DefaultValue::Float(#v))
        }
        DefaultLit::Bool(v) => quote!(::trigorm::schema::DefaultValue::Bool(#v)),
        DefaultLit::Text(v) => quote!(::trigorm::schema::DefaultValue::Text(#v)),
    }
}

/// `<Other as ::trigorm::Model>::table`. `Self` is replaced by the struct's name, since the
/// static that holds it cannot name `Self`.
fn referenced_table(m: &ModelDef, path: &Path) -> TokenStream {
    let ident = m.ident;
    if path.is_ident("Self") {
        quote_spanned!(path.span()=> <#ident as ::trigorm::Model>::table)
    } else {
        quote_spanned!(path.span()=> <#path as ::trigorm::Model>::table)
    }
}

fn on_delete_variant(action: OnDelete) -> TokenStream {
    match action {
        OnDelete::NoAction => quote!(NoAction),
        OnDelete::Restrict => quote!(Restrict),
        OnDelete::Cascade => quote!(Cascade),
        OnDelete::SetNull => quote!(SetNull),
        OnDelete::SetDefault => quote!(SetDefault),
    }
}

/// Checks evaluated at compile time, where only the field types can tell: the primary key
/// is not nullable (a type alias of `Option` slips past the syntactic check), and each
/// `default` literal suits its column's type.
fn checks(m: &ModelDef) -> TokenStream {
    let key = &m.columns[m.primary_key];
    let key_ty = field_trait(key);
    let key_message = format!(
        "the primary key `{}` of {} cannot be nullable: keys are never NULL",
        key.field, m.name
    );
    let mut checks = vec![quote_spanned!(key.ty.span()=> ::core::assert!(!#key_ty::NULLABLE, #key_message))];
    for c in &m.columns {
        if let Some(d) = &c.default {
            checks.push(default_check(m, c, d));
        }
    }
    // One constant per check, so that every failing check is reported.
    quote!(#(const _: () = #checks;)*)
}

fn default_check(m: &ModelDef, c: &Column, d: &DefaultAttr) -> TokenStream {
    let (literal, kinds, types): (_, &[&str], _) = match d.value {
        DefaultLit::Int(_) => ("an integer", &["Integer", "Float"], "an integer or float"),
        DefaultLit::Float(_) => ("a float", &["Float"], "a float"),
        DefaultLit::Bool(_) => ("a bool", &["Bool"], "a bool"),
        DefaultLit::Text(_) => (
            "a string",
            &["Text", "Timestamp", "Date", "Json"],
            "a text, timestamp, date or JSON",
        ),
    };
    let message = format!("{}.{}: {literal} `default` needs {types} field", m.name, c.field);
    let ty = field_trait(c);
    let kinds = kinds.iter().map(|k| format_ident!("{k}"));
    quote_spanned! {d.span=>
        ::core::assert!(::core::matches!(#ty::TYPE, #(::trigorm::schema::ColumnType::#kinds)|*), #message)
    }
}
