//! `strip-spec-docs IN.wasm OUT.wasm`: rewrites a contract's `contractspecv0` section and copies
//! every other section unchanged. Two things happen to the spec:
//! - spec shaking (v2): entries of types and events that the contract never uses at its
//!   boundary are dropped, by the markers soroban-sdk leaves in the data section — the step
//!   stellar-cli performs and that `SOROBAN_SDK_BUILD_SYSTEM_SUPPORTS_SPEC_SHAKING_V2` promises;
//! - doc strings are emptied: soroban-sdk copies each entry point's rustdoc into the spec, and
//!   the OpenZeppelin traits the contracts expose carry long docs (most of the token's 87 KiB).
//!   The docs stay in the source and in EVENTS.md; on chain the spec keeps every name and
//!   type, which is what clients and bindings need.

use std::{env, fs, process::ExitCode};

use soroban_sdk::xdr::{
    Limited, Limits, ReadXdr, ScSpecEntry, ScSpecUdtUnionCaseV0, StringM, VecM, WriteXdr,
};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: strip-spec-docs IN.wasm OUT.wasm");
        return ExitCode::from(2);
    }
    match run(&args[1], &args[2]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("strip-spec-docs: {}: {}", args[1], err);
            ExitCode::FAILURE
        }
    }
}

fn run(input: &str, output: &str) -> Result<(), String> {
    let wasm = fs::read(input).map_err(|e| e.to_string())?;
    if wasm.len() < 8 || &wasm[..4] != b"\0asm" {
        return Err("not a Wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut pos = 8;
    let mut found = false;
    while pos < wasm.len() {
        let id = wasm[pos];
        let (size, header_len) = read_leb(&wasm[pos + 1..])?;
        let start = pos + 1 + header_len;
        let end = start + size as usize;
        let payload = wasm.get(start..end).ok_or("truncated section")?;
        match custom_section(id, payload)? {
            Some((name_len, "contractspecv0")) => {
                found = true;
                let spec = strip(
                    &payload[name_len..],
                    &soroban_spec::shaking::find_all(&wasm),
                )?;
                let mut new_payload = payload[..name_len].to_vec();
                new_payload.extend_from_slice(&spec);
                out.push(0);
                write_leb(&mut out, new_payload.len() as u32);
                out.extend_from_slice(&new_payload);
            }
            _ => out.extend_from_slice(&wasm[pos..end]),
        }
        pos = end;
    }
    if !found {
        return Err("no contractspecv0 section".into());
    }
    fs::write(output, out).map_err(|e| e.to_string())
}

/// For a custom section, the length of its name prefix and the name.
fn custom_section(id: u8, payload: &[u8]) -> Result<Option<(usize, &str)>, String> {
    if id != 0 {
        return Ok(None);
    }
    let (len, n) = read_leb(payload)?;
    let name = payload.get(n..n + len as usize).ok_or("truncated name")?;
    Ok(std::str::from_utf8(name)
        .ok()
        .map(|s| (n + len as usize, s)))
}

fn read_leb(bytes: &[u8]) -> Result<(u32, usize), String> {
    let mut value: u32 = 0;
    for (i, b) in bytes.iter().enumerate().take(5) {
        value |= u32::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
    }
    Err("bad LEB128".into())
}

fn write_leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn strip(
    spec: &[u8],
    markers: &std::collections::HashSet<soroban_spec::shaking::Marker>,
) -> Result<Vec<u8>, String> {
    let mut reader = Limited::new(spec, Limits::none());
    let entries = ScSpecEntry::read_xdr_iter(&mut reader)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for mut entry in soroban_spec::shaking::filter(entries, markers) {
        clear_docs(&mut entry)?;
        out.extend(entry.to_xdr(Limits::none()).map_err(|e| e.to_string())?);
    }
    Ok(out)
}

fn cleared<T, const MAX: u32>(
    items: &VecM<T, MAX>,
    f: impl Fn(&mut T),
) -> Result<VecM<T, MAX>, String>
where
    T: Clone,
{
    let mut v = items.to_vec();
    v.iter_mut().for_each(f);
    v.try_into().map_err(|_| "spec vector too long".to_string())
}

fn clear_docs(entry: &mut ScSpecEntry) -> Result<(), String> {
    let empty = StringM::<1024>::default;
    match entry {
        ScSpecEntry::FunctionV0(f) => {
            f.doc = empty();
            f.inputs = cleared(&f.inputs, |i| i.doc = empty())?;
        }
        ScSpecEntry::UdtStructV0(s) => {
            s.doc = empty();
            s.fields = cleared(&s.fields, |f| f.doc = empty())?;
        }
        ScSpecEntry::UdtUnionV0(u) => {
            u.doc = empty();
            u.cases = cleared(&u.cases, |c| match c {
                ScSpecUdtUnionCaseV0::VoidV0(v) => v.doc = empty(),
                ScSpecUdtUnionCaseV0::TupleV0(t) => t.doc = empty(),
            })?;
        }
        ScSpecEntry::UdtEnumV0(en) => {
            en.doc = empty();
            en.cases = cleared(&en.cases, |c| c.doc = empty())?;
        }
        ScSpecEntry::UdtErrorEnumV0(en) => {
            en.doc = empty();
            en.cases = cleared(&en.cases, |c| c.doc = empty())?;
        }
        ScSpecEntry::EventV0(ev) => {
            ev.doc = empty();
            ev.params = cleared(&ev.params, |p| p.doc = empty())?;
        }
    }
    Ok(())
}
