//! The macro every configuration key is declared with, and what it
//! generates: the section structs, their defaults, and one [`Key`] per key
//! (dotted name, environment variable, type, default, doc line, secrecy).

/// One declared key: everything `config check`, `config keys`, the
/// environment layer and the README's reference table need to know about it.
#[derive(Debug, Clone, Copy)]
pub struct Key {
    /// Dotted name, e.g. `smtp.tls`.
    pub name: &'static str,
    /// The Rust type it is read into, e.g. `Option<u16>`.
    pub type_name: &'static str,
    /// What it does and what it accepts.
    pub doc: &'static str,
    /// How the default reads in docs when it is not the plain value
    /// (e.g. "by `tls`: 587 / 465 / 25"); `None` shows the value itself.
    pub shown: Option<&'static str>,
    /// Whether its value is never printed.
    pub secret: bool,
}

impl Key {
    /// The fields every key starts from; the declaration overrides them.
    pub const BASE: Key = Key {
        name: "",
        type_name: "",
        doc: "",
        shown: None,
        secret: false,
    };

    /// The environment variable that sets it: `smtp.tls` is
    /// `HANDOFF_GATE__SMTP__TLS`.
    pub fn env(&self) -> String {
        format!(
            "{}{}",
            super::ENV_PREFIX,
            self.name.to_ascii_uppercase().replace('.', "__")
        )
    }
}

/// Declare the configuration: a root struct with top-level keys, and one
/// struct per `[section]`. Each key is written once:
///
/// ```text
/// /// (field doc, optional)
/// #[serde(...)]                     // optional field attributes
/// name: Type = default_expr => "doc line"[, secret: true][, shown: "default as documented"];
/// ```
///
/// and becomes a field with that doc line, a `Default` value, and a
/// [`Key`] in `KEYS` (in declaration order: root keys first, then sections).
macro_rules! declare_config {
    (
        $(#[$root_meta:meta])*
        pub struct $root:ident {
            $(
                $(#[$root_attr:meta])*
                $root_key:ident : $root_ty:ty = $root_default:expr => $root_doc:literal
                    $(, $root_opt:ident : $root_val:expr)* ;
            )*
        }
        $(
            $(#[$section_meta:meta])*
            [$section:ident] pub struct $section_ty:ident {
                $(
                    $(#[$attr:meta])*
                    $key:ident : $ty:ty = $default:expr => $doc:literal
                        $(, $opt:ident : $val:expr)* ;
                )*
            }
        )*
    ) => {
        $(#[$root_meta])*
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $root {
            $(
                #[doc = $root_doc]
                $(#[$root_attr])*
                pub $root_key: $root_ty,
            )*
            $(
                $(#[$section_meta])*
                pub $section: $section_ty,
            )*
        }

        impl Default for $root {
            fn default() -> Self {
                $root {
                    $( $root_key: $root_default, )*
                    $( $section: $section_ty::default(), )*
                }
            }
        }

        $(
            $(#[$section_meta])*
            #[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            pub struct $section_ty {
                $(
                    #[doc = $doc]
                    $(#[$attr])*
                    pub $key: $ty,
                )*
            }

            impl Default for $section_ty {
                fn default() -> Self {
                    $section_ty { $( $key: $default, )* }
                }
            }
        )*

        /// Every key, in the order `config check` prints them.
        #[allow(clippy::needless_update)] // a key may set every option
        pub const KEYS: &[$crate::config::Key] = &[
            $(
                $crate::config::Key {
                    name: stringify!($root_key),
                    type_name: stringify!($root_ty),
                    doc: $root_doc,
                    $( $root_opt: declare_config!(@opt $root_opt $root_val), )*
                    ..$crate::config::Key::BASE
                },
            )*
            $($(
                $crate::config::Key {
                    name: concat!(stringify!($section), ".", stringify!($key)),
                    type_name: stringify!($ty),
                    doc: $doc,
                    $( $opt: declare_config!(@opt $opt $val), )*
                    ..$crate::config::Key::BASE
                },
            )*)*
        ];
    };
    (@opt secret $value:expr) => { $value };
    (@opt shown $value:expr) => { Some($value) };
}

pub(crate) use declare_config;
