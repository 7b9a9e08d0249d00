//! What a started process gives back, and notices at the ends.
//!
//! A child names its outputs (`outputs { promoted, confirmed_on? }`); a parent that
//! waits for it may keep them (`receive promoted as was_promoted`) and go on by the
//! end the child reached (`on outcome { promoted -> ... }`). The soundness rule
//! ("checks clean means it never gets stuck") asks here that:
//!
//! - an `on outcome` block names only ends of the child and covers every one of them,
//!   and `cancelled` (an admin may cancel the child), or has an `otherwise`;
//! - an output is a field whose type a parent can know from the child's text alone
//!   (declared in `data` or in a typed `fill`), and unless marked `?` it has a value
//!   at every end (checked as a read at each end, E080);
//! - a kept output goes to a field of the parent with the same type, optional in the
//!   parent's data (it is empty until the child ends, and stays empty when the child
//!   was cancelled or left an optional output empty).
//!
//! The model never depends on the other processes (a stored definition is compiled
//! again without them), so what is checked against the child only reports.

use super::types::check_placeholders;
use super::{Checker, Signature};
use crate::ast::{self, Span, Stmt};
use crate::catalogue::Code;
use crate::diagnostic::did_you_mean;
use crate::model::*;
use std::collections::BTreeSet;

/// The outside view of a child's outputs and ends, from its parse alone.
pub(super) fn describe(p: &ast::Process, sig: &mut Signature) {
    let mut sink = Vec::new();
    for (name, optional) in &p.outputs {
        let declared = p
            .data
            .iter()
            .find(|f| f.name.text == name.text)
            .map(|f| &f.ty)
            .or_else(|| {
                p.steps
                    .iter()
                    .flat_map(|s| &s.body)
                    .find_map(|st| match st {
                        Stmt::Fill(items, _) => items
                            .iter()
                            .find(|i| i.name.text == name.text)
                            .and_then(|i| i.ty.as_ref()),
                        _ => None,
                    })
            });
        if let Some(t) = declared {
            let ty = super::type_of(t, &mut sink);
            sig.outputs.insert(name.text.clone(), (ty, *optional));
        }
    }
    sig.ends = p.ends.iter().map(|e| e.name.text.clone()).collect();
}

impl Checker<'_> {
    /// A `notify` line, in a step or at an end.
    pub(super) fn notice(&mut self, st: &Stmt) -> Option<Notify> {
        let Stmt::Notify {
            to,
            via,
            message,
            span,
        } = st
        else {
            return None;
        };
        check_placeholders(message, &self.fields, &mut self.diags);
        // A text field is an address in any `notify`, so one without `via` is told
        // it needs a channel (rather than that it is not a person).
        let to = self.who(to, true);
        if matches!(to, Who::Address(_)) && via.is_none() {
            self.err(Code::AddressWithoutVia, span.clone(), &[]);
        }
        Some(Notify {
            to,
            via: via.as_ref().map(|v| v.text.clone()),
            message: message.value.clone(),
        })
    }

    pub(super) fn end(&mut self, e: &ast::End) -> End {
        End {
            name: e.name.text.clone(),
            title: e.title.as_ref().map(|t| t.value.clone()),
            notifies: e.notices.iter().filter_map(|n| self.notice(n)).collect(),
        }
    }

    /// `outputs { ... }`: fields of this process whose type a parent can know.
    pub(super) fn outputs(&mut self, p: &ast::Process) -> Vec<Output> {
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for (name, optional) in &p.outputs {
            if !seen.insert(name.text.as_str()) {
                self.err(
                    Code::DuplicateName,
                    name.span.clone(),
                    &[&"output", &name.text],
                );
                continue;
            }
            match self.fields.get(&name.text) {
                None => {
                    let help = did_you_mean(&name.text, self.fields.keys().map(String::as_str));
                    self.err(Code::UnknownField, name.span.clone(), &[&name.text, &""])
                        .set_help(help);
                }
                Some(f) if f.source == FieldSource::Computed => {
                    self.err(Code::OutputUndeclared, name.span.clone(), &[&name.text]);
                }
                Some(_) => {}
            }
            out.push(Output {
                field: name.text.clone(),
                optional: *optional,
            });
        }
        out
    }

    /// The child a step starts and waits for, by name, when it does.
    fn waited_child<'p>(parts: &[&'p Stmt]) -> Option<&'p ast::Name> {
        parts.iter().find_map(|st| match st {
            Stmt::Start {
                process,
                wait: true,
                ..
            } => Some(process),
            _ => None,
        })
    }

    fn child_signature(&self, name: &ast::Name) -> Option<Signature> {
        self.ctx.processes?.get(&name.text).cloned()
    }

    /// `receive` lines of a step.
    pub(super) fn receives(
        &mut self,
        actions: &[&Stmt],
        items: &[(&ast::Name, Option<&ast::Name>, Span)],
    ) -> Vec<Receive> {
        if items.is_empty() {
            return vec![];
        }
        let child = Self::waited_child(actions);
        let sig = child.and_then(|c| self.child_signature(c));
        let mut out = Vec::new();
        let mut kept = BTreeSet::new();
        for (output, field, span) in items {
            let Some(child) = child else {
                self.err(Code::NoChildToWait, span.clone(), &[&"receive"]);
                continue;
            };
            let field = field.unwrap_or(output);
            if !kept.insert(field.text.clone()) {
                self.err(
                    Code::DuplicateName,
                    field.span.clone(),
                    &[&"field", &field.text],
                );
            }
            let mine = self.fields.get(&field.text).cloned();
            let Some(mine) = mine else {
                let help = did_you_mean(&field.text, self.fields.keys().map(String::as_str));
                self.err(
                    Code::UnknownField,
                    field.span.clone(),
                    &[&field.text, &" (declare it in `data`, with `?`)"],
                )
                .set_help(help);
                continue;
            };
            if let Some(sig) = &sig {
                match sig.outputs.get(&output.text) {
                    None => {
                        let help =
                            did_you_mean(&output.text, sig.outputs.keys().map(String::as_str));
                        self.err(
                            Code::NotAnOutput,
                            output.span.clone(),
                            &[&output.text, &child.text],
                        )
                        .set_help(help);
                    }
                    Some((ty, _)) => {
                        if !same_kind(ty, &mine.ty) {
                            let why = format!(
                                "the output is {}, the field {}",
                                ty.describe(),
                                mine.ty.describe()
                            );
                            self.err(
                                Code::ReceiveMismatch,
                                field.span.clone(),
                                &[&field.text, &output.text, &child.text, &why],
                            );
                        }
                    }
                }
            }
            // Empty until the child ends, and empty when it is cancelled: a kept
            // output's field must be optional where it is declared.
            if !mine.optional || !matches!(mine.source, FieldSource::Start | FieldSource::Written) {
                self.err(
                    Code::ReceiveMismatch,
                    field.span.clone(),
                    &[
                        &field.text,
                        &output.text,
                        &child.text,
                        &"the field must be declared optional (`?`) in `data`",
                    ],
                );
            }
            out.push(Receive {
                output: output.text.clone(),
                field: field.text.clone(),
            });
        }
        out
    }

    /// `on outcome { ... }`: where the step goes by the end its child reached.
    pub(super) fn outcome_route(
        &mut self,
        actions: &[&Stmt],
        arms: &[(Option<ast::Name>, ast::Name)],
        span: Span,
        targets: &BTreeSet<String>,
    ) -> Route {
        let child = Self::waited_child(actions);
        let sig = child.and_then(|c| self.child_signature(c));
        if child.is_none() {
            self.err(Code::NoChildToWait, span.clone(), &[&"on outcome"]);
        }
        let mut seen = BTreeSet::new();
        let mut otherwise = false;
        let mut out = Vec::new();
        for (end, target) in arms {
            if otherwise {
                let at = end.as_ref().map_or(target.span.clone(), |e| e.span.clone());
                self.err(
                    Code::CaseNeverUsed,
                    at,
                    &[&"outcome", &"an earlier `otherwise` takes every end"],
                );
            }
            match end {
                None => otherwise = true,
                Some(e) => {
                    if !seen.insert(e.text.clone()) {
                        self.err(Code::DuplicateName, e.span.clone(), &[&"outcome", &e.text]);
                    }
                    if let (Some(sig), Some(child)) = (&sig, child) {
                        if e.text != CANCELLED && !sig.ends.contains(&e.text) {
                            let help = did_you_mean(
                                &e.text,
                                sig.ends
                                    .iter()
                                    .map(String::as_str)
                                    .chain(std::iter::once(CANCELLED)),
                            );
                            self.err(Code::NotAChildEnd, e.span.clone(), &[&e.text, &child.text])
                                .set_help(help);
                        }
                    }
                }
            }
            out.push(OutcomeArm {
                end: end.as_ref().map(|e| e.text.clone()),
                target: self.target(target, targets),
            });
        }
        if let (Some(sig), Some(child), false) = (&sig, child, otherwise) {
            let missing: Vec<String> = sig
                .ends
                .iter()
                .map(String::as_str)
                .chain(std::iter::once(CANCELLED))
                .filter(|e| !seen.contains(*e))
                .map(|e| format!("`{e}`"))
                .collect();
            if !missing.is_empty() {
                self.err(
                    Code::OutcomeNotCovered,
                    span,
                    &[&child.text, &missing.join(", ")],
                );
            }
        }
        Route::ByOutcome(out)
    }
}

/// Whether a value of `a` is a value of `b`: the same kind, and for choices the same
/// names (ranges are not compared: the engine keeps what the child held).
fn same_kind(a: &Type, b: &Type) -> bool {
    match (a, b) {
        (Type::Choice(x), Type::Choice(y)) => {
            let names = |vs: &[Variant]| vs.iter().map(|v| v.name.clone()).collect::<BTreeSet<_>>();
            names(x).is_subset(&names(y))
        }
        // The child's range must lie within the field's.
        (Type::Integer { min: a0, max: a1 }, Type::Integer { min: b0, max: b1 }) => {
            b0.is_none_or(|b| a0.is_some_and(|a| a >= b))
                && b1.is_none_or(|b| a1.is_some_and(|a| a <= b))
        }
        (Type::Decimal { min: a0, max: a1 }, Type::Decimal { min: b0, max: b1 }) => {
            b0.is_none_or(|b| a0.is_some_and(|a| a >= b))
                && b1.is_none_or(|b| a1.is_some_and(|a| a <= b))
        }
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}
