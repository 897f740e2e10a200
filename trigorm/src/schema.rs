//! Schema: what a model declares about its table, as static data the derive macro emits.
//!
//! Nothing here knows about SQL text or connections; the dialects render it and the
//! session reads it.

use crate::error::Error;
use crate::value::ValueRef;

/// The storage type of a column, independent of any backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    /// A 64-bit integer.
    Integer,
    /// A double-precision float.
    Float,
    /// A boolean.
    Bool,
    /// Text.
    Text,
    /// Bytes.
    Blob,
    /// A UTC timestamp.
    Timestamp,
    /// A calendar date.
    Date,
    /// A JSON document.
    Json,
}

/// What the database does to rows that reference a deleted parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OnDelete {
    /// Refuse the delete at the end of the statement (the SQL default).
    #[default]
    NoAction,
    /// Refuse the delete at once.
    Restrict,
    /// Delete the referencing rows too.
    Cascade,
    /// Set the referencing column to `NULL`.
    SetNull,
    /// Set the referencing column to its default.
    SetDefault,
}

/// A column's declared default, rendered as a SQL literal in `CREATE TABLE`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A boolean literal.
    Bool(bool),
    /// A text literal (quoted and escaped when rendered).
    Text(&'static str),
}

impl DefaultValue {
    /// The literal as a value.
    ///
    /// ```
    /// use trigorm::schema::DefaultValue;
    /// use trigorm::ValueRef;
    /// assert_eq!(DefaultValue::Text("new").value_ref(), ValueRef::Text("new"));
    /// ```
    pub fn value_ref(&self) -> ValueRef<'static> {
        match *self {
            DefaultValue::Int(i) => ValueRef::Int(i),
            DefaultValue::Float(f) => ValueRef::Float(f),
            DefaultValue::Bool(b) => ValueRef::Bool(b),
            DefaultValue::Text(t) => ValueRef::Text(t),
        }
    }
}

/// A foreign key from one column to the primary key of another model's table.
#[derive(Debug, Clone, Copy)]
pub struct ForeignKeyDef {
    /// The referenced table (a function, so that models may reference each other).
    pub table: fn() -> &'static TableDef,
    /// What happens to this row when the referenced row is deleted.
    pub on_delete: OnDelete,
}

/// One column of a model's table.
#[derive(Debug, Clone, Copy)]
pub struct ColumnDef {
    /// The column name in the database.
    pub name: &'static str,
    /// The Rust field it maps to.
    pub field: &'static str,
    /// Storage type.
    pub ty: ColumnType,
    /// Whether `NULL` is allowed.
    pub nullable: bool,
    /// Whether this is the primary key.
    pub primary_key: bool,
    /// Whether the database generates the key (an integer primary key whose value is 0).
    pub auto_increment: bool,
    /// A `UNIQUE` constraint.
    pub unique: bool,
    /// A (non-unique) index on this column (foreign-key columns get one anyway).
    pub index: bool,
    /// A `DEFAULT` for writes that do not name the column (raw SQL).
    pub default: Option<DefaultValue>,
    /// A foreign key.
    pub references: Option<ForeignKeyDef>,
    /// The optimistic-locking version (`#[trigorm(version)]`, an integer): every update
    /// writes it one higher, and an update or delete of a copy whose version is not the
    /// row's fails with [`Error::Conflict`].
    pub version: bool,
}

impl ColumnDef {
    /// A column with only a name, a field and a type; the rest off. Used by the derive
    /// macro with struct-update syntax.
    pub const fn new(name: &'static str, field: &'static str, ty: ColumnType) -> ColumnDef {
        ColumnDef {
            name,
            field,
            ty,
            nullable: false,
            primary_key: false,
            auto_increment: false,
            unique: false,
            index: false,
            default: None,
            references: None,
            version: false,
        }
    }
}

/// A model's table: its name, its columns in field order, and its primary key.
#[derive(Debug)]
pub struct TableDef {
    /// Table name in the database.
    pub name: &'static str,
    /// The Rust type's name, for error messages.
    pub model: &'static str,
    /// The columns, in the order of the struct's fields.
    pub columns: &'static [ColumnDef],
    /// Index into `columns` of the primary key.
    pub primary_key: usize,
}

impl TableDef {
    /// The primary-key column.
    #[inline]
    pub fn pk(&self) -> &ColumnDef {
        &self.columns[self.primary_key]
    }

    /// Whether the database generates this table's keys.
    #[inline]
    pub fn auto_increment(&self) -> bool {
        self.pk().auto_increment
    }

    /// The index of the optimistic-locking version column, if the model has one.
    ///
    /// ```
    /// use trigorm::Model;
    /// #[derive(Model, Clone, Debug)]
    /// struct Doc { id: i64, title: String, #[trigorm(version)] version: i64 }
    /// assert_eq!(Doc::table().version(), Some(2));
    /// ```
    #[inline]
    pub fn version(&self) -> Option<usize> {
        self.columns.iter().position(|c| c.version)
    }

    /// The index of a column by name.
    ///
    /// # Errors
    /// [`Error::UnknownColumn`] when the model has no such column.
    pub fn column_index(&self, name: &str) -> Result<usize, Error> {
        self.columns
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| Error::UnknownColumn {
                model: self.model,
                column: name.to_string(),
            })
    }

    /// Check every name this table puts into SQL, and the shape of its keys.
    ///
    /// # Errors
    /// [`Error::InvalidIdentifier`] or [`Error::InvalidModel`] saying what and where.
    pub fn validate(&self) -> Result<(), Error> {
        validate_identifier(IdentKind::Table, self.name)?;
        if self.columns.is_empty() || self.columns.len() > crate::model::MAX_COLUMNS {
            return Err(Error::InvalidModel {
                model: self.model,
                reason: format!("a model has 1 to {} columns", crate::model::MAX_COLUMNS),
            });
        }
        let pks = self.columns.iter().filter(|c| c.primary_key).count();
        if pks != 1 || !self.columns.get(self.primary_key).is_some_and(|c| c.primary_key) {
            return Err(Error::InvalidModel {
                model: self.model,
                reason: "a model has exactly one primary key column".into(),
            });
        }
        for (i, c) in self.columns.iter().enumerate() {
            validate_identifier(IdentKind::Column, c.name)?;
            if c.primary_key && c.nullable {
                return Err(Error::InvalidModel {
                    model: self.model,
                    reason: format!("primary key {:?} cannot be nullable", c.name),
                });
            }
            if c.references.is_some_and(|fk| fk.on_delete == OnDelete::SetNull) && !c.nullable {
                return Err(Error::InvalidModel {
                    model: self.model,
                    reason: format!("column {:?}: on_delete set_null needs a nullable column", c.name),
                });
            }
            // SQLite compares names without regard to ASCII case.
            if self.columns[..i].iter().any(|o| o.name.eq_ignore_ascii_case(c.name)) {
                return Err(Error::InvalidModel {
                    model: self.model,
                    reason: format!("column {:?} is declared twice", c.name),
                });
            }
            if c.version && (c.primary_key || c.nullable || c.ty != ColumnType::Integer) {
                return Err(Error::InvalidModel {
                    model: self.model,
                    reason: format!("version column {:?} must be a non-null integer, not the key", c.name),
                });
            }
            if c.version && self.columns[..i].iter().any(|o| o.version) {
                return Err(Error::InvalidModel {
                    model: self.model,
                    reason: "a model has at most one version column".into(),
                });
            }
            if c.auto_increment && (!c.primary_key || c.ty != ColumnType::Integer) {
                return Err(Error::InvalidModel {
                    model: self.model,
                    reason: format!("column {:?}: only an integer primary key can auto-increment", c.name),
                });
            }
        }
        Ok(())
    }
}

/// What kind of name an identifier is, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IdentKind {
    /// A table name.
    Table,
    /// A column name.
    Column,
    /// An index name.
    Index,
    /// A trigger name.
    Trigger,
}

impl std::fmt::Display for IdentKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            IdentKind::Table => "table",
            IdentKind::Column => "column",
            IdentKind::Index => "index",
            IdentKind::Trigger => "trigger",
        })
    }
}

/// The longest identifier accepted: PostgreSQL's limit, the smallest of the backends.
pub const MAX_IDENTIFIER_LEN: usize = 63;

/// Check that `name` is a plain SQL identifier: an ASCII letter or `_`, then letters,
/// digits or `_`, at most [`MAX_IDENTIFIER_LEN`] bytes. Every name trigorm puts into SQL
/// passes this check and is quoted as well.
///
/// ```
/// use trigorm::schema::{validate_identifier, IdentKind};
/// assert!(validate_identifier(IdentKind::Table, "users").is_ok());
/// assert!(validate_identifier(IdentKind::Column, "name; DROP TABLE users").is_err());
/// ```
///
/// # Errors
/// [`Error::InvalidIdentifier`] naming the kind, the name and the reason.
pub fn validate_identifier(kind: IdentKind, name: &str) -> Result<(), Error> {
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.len() > MAX_IDENTIFIER_LEN {
        Some("it is longer than 63 bytes")
    } else if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        Some("it must start with an ASCII letter or '_'")
    } else if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Some("it may hold only ASCII letters, digits and '_'")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidIdentifier {
            kind,
            name: name.to_string(),
            reason,
        }),
        None => Ok(()),
    }
}
