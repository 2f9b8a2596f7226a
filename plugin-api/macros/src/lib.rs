//! `#[derive(CommandArgs)]` for zoryx-plugin-api; use it through `zoryx_plugin_api::CommandArgs`,
//! whose documentation shows it at work.

use proc_macro::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Lit, LitStr, parse_macro_input};

/// Derives `zoryx_plugin_api::CommandArgs` for a struct with named fields: each field is an
/// argument of the same name, its kind from its type (`String`, integers, `f64`, `bool`,
/// `UserId`, `RoleId`, `ChannelId`; `Option<_>` makes it optional), its help text from its doc
/// comment. `#[arg(rest)]` takes the rest of the line, `#[arg(member)]` a guild member,
/// `#[arg(name = "...")]` renames it; `#[arg(choices("a", "b"))]` (or numbers) limits its
/// values, `#[arg(min = 1, max = 10)]` its range, `#[arg(min_length = 2, max_length = 20)]`
/// its length.
#[proc_macro_derive(CommandArgs, attributes(arg))]
pub fn derive_command_args(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match expand(&input) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "CommandArgs is derived for a struct with named fields",
        ));
    };
    let Fields::Named(fields) = &data.fields else {
        return Err(syn::Error::new_spanned(
            &input.ident,
            "CommandArgs is derived for a struct with named fields",
        ));
    };
    let mut declares = Vec::new();
    let mut parses = Vec::new();
    for field in &fields.named {
        let Some(ident) = &field.ident else {
            continue;
        };
        let ty = &field.ty;
        let mut name = ident.to_string().trim_start_matches("r#").to_owned();
        let mut kind = None;
        let mut rules = Vec::new();
        for attr in field.attrs.iter().filter(|a| a.path().is_ident("arg")) {
            attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("rest") {
                    kind = Some(quote!(::zoryx_plugin_api::ArgKind::Rest));
                } else if meta.path.is_ident("member") {
                    kind = Some(quote!(::zoryx_plugin_api::ArgKind::Member));
                } else if meta.path.is_ident("name") {
                    name = meta.value()?.parse::<LitStr>()?.value();
                } else if meta.path.is_ident("choices") {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let list = content
                        .parse_terminated(<Lit as syn::parse::Parse>::parse, syn::Token![,])?;
                    for lit in list {
                        rules.push(match lit {
                            Lit::Str(s) => quote!(.choice(#s, #s)),
                            Lit::Int(i) => {
                                let shown = i.base10_digits().to_owned();
                                quote!(.choice(#shown, #i as i64))
                            }
                            Lit::Float(f) => {
                                let shown = f.base10_digits().to_owned();
                                quote!(.choice(#shown, #f as f64))
                            }
                            other => {
                                return Err(syn::Error::new_spanned(
                                    other,
                                    "a choice is a string, an integer or a float literal",
                                ));
                            }
                        });
                    }
                } else if ["min", "max", "min_length", "max_length"]
                    .iter()
                    .any(|rule| meta.path.is_ident(rule))
                {
                    let which = meta.path.get_ident().cloned();
                    let value: syn::Expr = meta.value()?.parse()?;
                    rules.push(quote!(.#which(#value)));
                } else {
                    return Err(meta.error(
                        "expected `rest`, `member`, `name = \"...\"`, `choices(...)`, `min = ..`, \
                         `max = ..`, `min_length = ..` or `max_length = ..`",
                    ));
                }
                Ok(())
            })?;
        }
        let doc: Vec<String> = field
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .filter_map(|a| match &a.meta {
                syn::Meta::NameValue(nv) => match &nv.value {
                    syn::Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => Some(s.value().trim().to_owned()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let description = doc.join(" ");
        let declare = match kind {
            Some(kind) => quote! {
                ::zoryx_plugin_api::args::declare_as(#name, #kind, <#ty as ::zoryx_plugin_api::ArgType>::OPTIONAL)
            },
            None => quote! { <#ty as ::zoryx_plugin_api::ArgType>::declare(#name) },
        };
        declares.push(quote! { #declare.description(#description) #(#rules)* });
        parses.push(quote! { #ident: args.get::<#ty>(#name)? });
    }
    let ident = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    Ok(quote! {
        impl #impl_generics ::zoryx_plugin_api::CommandArgs for #ident #ty_generics #where_clause {
            fn declare() -> ::std::vec::Vec<::zoryx_plugin_api::Arg> {
                ::std::vec![#(#declares),*]
            }

            fn parse(args: &::zoryx_plugin_api::Args) -> ::zoryx_plugin_api::PluginResult<Self> {
                ::std::result::Result::Ok(Self { #(#parses),* })
            }
        }
    })
}
