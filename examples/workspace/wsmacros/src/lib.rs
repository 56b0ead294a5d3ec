//! `#[derive(Describe)]`: implements `wscore::Describe` for a struct, giving
//! its name and field names. Written against the bare `proc_macro` API.

use proc_macro::{Delimiter, TokenStream, TokenTree};

#[proc_macro_derive(Describe)]
pub fn derive_describe(input: TokenStream) -> TokenStream {
    match parse_struct(input) {
        Ok((name, fields)) => {
            let fields: Vec<String> = fields.iter().map(|f| format!("{f:?}")).collect();
            format!(
                "impl ::wscore::Describe for {name} {{
                    fn type_name(&self) -> &'static str {{ {name:?} }}
                    fn field_names(&self) -> &'static [&'static str] {{ &[{}] }}
                }}",
                fields.join(", ")
            )
        }
        // Debug formatting of a str is a valid Rust string literal.
        Err(msg) => format!("compile_error!({msg:?});"),
    }
    .parse()
    .expect("generated code is valid Rust")
}

/// Returns the struct's name and its field names (`0`, `1`, ... for tuple structs).
fn parse_struct(input: TokenStream) -> Result<(String, Vec<String>), String> {
    let mut tokens = input.into_iter().peekable();
    skip_attrs_and_vis(&mut tokens);
    match tokens.next() {
        Some(TokenTree::Ident(kw)) if kw.to_string() == "struct" => {}
        _ => return Err("Describe can only be derived for structs".into()),
    }
    let name = match tokens.next() {
        Some(TokenTree::Ident(name)) => name.to_string(),
        _ => return Err("expected a struct name".into()),
    };
    match tokens.next() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => {
            let names = split_fields(g.stream())
                .into_iter()
                .filter_map(|field| {
                    let mut field = field.into_iter().peekable();
                    skip_attrs_and_vis(&mut field);
                    match field.next() {
                        // `r#type` is the field `type`.
                        Some(TokenTree::Ident(id)) => {
                            Some(id.to_string().trim_start_matches("r#").to_string())
                        }
                        _ => None,
                    }
                })
                .collect();
            Ok((name, names))
        }
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
            let count = split_fields(g.stream()).len();
            Ok((name, (0..count).map(|i| i.to_string()).collect()))
        }
        Some(TokenTree::Punct(p)) if p.as_char() == ';' => Ok((name, Vec::new())),
        _ => Err("Describe does not support generic structs".into()),
    }
}

/// Skips `#[...]` attributes (doc comments arrive as these) and `pub`/`pub(...)`.
fn skip_attrs_and_vis(tokens: &mut std::iter::Peekable<impl Iterator<Item = TokenTree>>) {
    loop {
        match tokens.peek() {
            Some(TokenTree::Punct(p)) if p.as_char() == '#' => {
                tokens.next();
                tokens.next(); // the [...] group
            }
            Some(TokenTree::Ident(id)) if id.to_string() == "pub" => {
                tokens.next();
                if let Some(TokenTree::Group(g)) = tokens.peek() {
                    if g.delimiter() == Delimiter::Parenthesis {
                        tokens.next();
                    }
                }
            }
            _ => return,
        }
    }
}

/// Splits a field list at top-level commas. Commas inside `<...>` (as in
/// `HashMap<K, V>`) are not groups to the tokenizer, so angle depth is tracked.
fn split_fields(stream: TokenStream) -> Vec<Vec<TokenTree>> {
    let mut fields = vec![Vec::new()];
    let mut depth = 0i32;
    let mut prev_dash = false;
    for tt in stream {
        let mut dash = false;
        if let TokenTree::Punct(p) = &tt {
            match p.as_char() {
                '<' => depth += 1,
                '>' if !prev_dash => depth -= 1, // not the `>` of `->`
                ',' if depth == 0 => {
                    fields.push(Vec::new());
                    continue;
                }
                '-' => dash = true,
                _ => {}
            }
        }
        prev_dash = dash;
        fields.last_mut().expect("never empty").push(tt);
    }
    fields.retain(|f| !f.is_empty()); // a trailing comma leaves an empty field
    fields
}
