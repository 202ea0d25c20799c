//! Serde's type errors in a user's words. A scenario writer sees TOML or
//! YAML values, not Rust types: "invalid type: floating point `1.5`,
//! expected u32" becomes "expected a whole number (0 or more), got 1.5",
//! "expected struct ClassConfig" becomes "expected a table". Messages that
//! do not have serde's shape pass through unchanged.

/// `message` with serde's type vocabulary replaced by what to write.
pub fn plain(message: &str) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some((given, expected)) = message
            .strip_prefix(prefix)
            .and_then(|rest| rest.split_once(", expected "))
        {
            return format!(
                "expected {}, got {}",
                expected_words(expected),
                given_words(given)
            );
        }
    }
    if message == "wanted string or table" {
        return "expected a name (a string) or a table".into();
    }
    if message.starts_with("wanted exactly 1 element") {
        return "expected a table of exactly one entry (the choice and its settings), got more than one".into();
    }
    if message.starts_with("data did not match any variant of untagged enum ") {
        return "this value has none of the accepted forms (see the reference for this field)"
            .into();
    }
    message.to_string()
}

/// Serde's "expected ..." in TOML/YAML words.
fn expected_words(e: &str) -> String {
    let e = e.trim();
    match e {
        "u8" => "a whole number from 0 to 255".into(),
        "u16" => "a whole number from 0 to 65535".into(),
        "u32" => "a whole number from 0 to 4294967295".into(),
        "u64" | "u128" | "usize" => "a whole number (0 or more)".into(),
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number".into(),
        "f32" | "f64" => "a number".into(),
        "a sequence" => "an array [...]".into(),
        "a map" | "map" => "a table".into(),
        "variant identifier" | "unit variant" => "one of this field's names, as a string".into(),
        "a boolean" => "true or false".into(),
        _ if e.starts_with("struct ") || e.starts_with("a map") => "a table".into(),
        _ if e.starts_with("internally tagged enum ") || e.starts_with("enum ") => {
            "a table (see the reference for this field)".into()
        }
        _ if e.starts_with("a tuple of size ") || e.starts_with("tuple ") => {
            "an array [...]".into()
        }
        _ => e.to_string(),
    }
}

/// Serde's description of the value given, in TOML/YAML words.
fn given_words(g: &str) -> String {
    let g = g.trim();
    for (p, w) in [
        ("floating point ", "the number "),
        ("integer ", "the number "),
        ("boolean ", ""),
        ("string ", "the string "),
    ] {
        if let Some(v) = g.strip_prefix(p) {
            return format!("{w}{}", v.trim_matches('`'));
        }
    }
    match g {
        "sequence" => "an array".into(),
        "map" => "a table".into(),
        "unit value" | "unit" => "nothing".into(),
        "newtype struct" | "newtype variant" | "unit variant" | "tuple variant"
        | "struct variant" => "a value of another kind".into(),
        _ => g.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::plain;

    #[test]
    fn serde_types_become_what_to_write() {
        for (from, to) in [
            (
                "invalid type: floating point `1.5`, expected u32",
                "expected a whole number from 0 to 4294967295, got the number 1.5",
            ),
            (
                "invalid value: integer `-1`, expected u64",
                "expected a whole number (0 or more), got the number -1",
            ),
            (
                "invalid type: string \"abc\", expected i64",
                "expected a whole number, got the string \"abc\"",
            ),
            (
                "invalid type: map, expected f64",
                "expected a number, got a table",
            ),
            (
                "invalid type: sequence, expected a string",
                "expected a string, got an array",
            ),
            (
                "invalid type: integer `3`, expected struct ClassConfig",
                "expected a table, got the number 3",
            ),
            (
                "invalid type: boolean `true`, expected variant identifier",
                "expected one of this field's names, as a string, got true",
            ),
            (
                "invalid type: string \"x\", expected a sequence",
                "expected an array [...], got the string \"x\"",
            ),
            (
                "wanted string or table",
                "expected a name (a string) or a table",
            ),
            ("missing field `to`", "missing field `to`"),
            (
                "unknown field `rat`, expected `rate`",
                "unknown field `rat`, expected `rate`",
            ),
        ] {
            assert_eq!(plain(from), to, "{from}");
        }
        // No Rust type is left in any of them.
        let jargon = ["u32", "u64", "i64", "f64", "struct", "sequence", "variant"];
        let m = plain("invalid type: sequence, expected struct X");
        assert!(!jargon.iter().any(|j| m.contains(j)), "{m}");
    }
}
