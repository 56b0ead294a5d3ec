//! The `wsmacros` derive and the `wscore` trait, used together as a user would.

use wscore::Describe;
use wsmacros::Describe;

/// Doc comments and attributes on the struct and its fields must be skipped.
#[derive(Describe, Default)]
#[allow(dead_code)]
pub struct Config {
    /// Field doc comment.
    pub name: String,
    pub(crate) limits: std::collections::HashMap<String, (u32, u32)>,
    callback: Option<fn(u8, u8) -> u8>,
    r#type: u8,
}

#[derive(Describe)]
struct Pair(#[allow(dead_code)] u8, #[allow(dead_code)] Vec<u8>);

#[derive(Describe)]
struct Marker;

#[test]
fn named_fields() {
    let c = Config::default();
    assert_eq!(c.type_name(), "Config");
    assert_eq!(c.field_names(), ["name", "limits", "callback", "type"]);
    assert_eq!(c.describe(), "Config { name, limits, callback, type }");
}

#[test]
fn tuple_and_unit_structs() {
    assert_eq!(Pair(1, vec![]).field_names(), ["0", "1"]);
    assert_eq!(Marker.describe(), "Marker {  }");
}
