//! Commands run in batches: whoever arrives while no batch runs takes every command
//! queued so far, runs them one after another and writes all their changes at once,
//! all or nothing (see `journal`). Concurrent callers so share the cost of a write
//! and of a flush, and since only one batch runs at a time, no command reads a record
//! another is changing.
//!
//! Inside a batch each command writes to an overlay of its own first. A refused
//! command's overlay is dropped, so it changes nothing, while the commands before and
//! after it in the same batch keep their changes.

use super::space::Space;
use super::StoreError;
use sled::IVec;
use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Condvar, Mutex};
use std::time::Duration;

/// At most this many commands per batch, so that the first in a long queue is not
/// kept waiting for all the others.
const MAX_BATCH: usize = 512;

pub(super) type Layer = rustc_hash::FxHashMap<Vec<u8>, Option<IVec>>;

/// A batch's changes, per space, once its commands have run.
pub(super) type Changes<const N: usize> = [Layer; N];

/// A read of the database under the overlay: (space's place, key) to value.
pub(super) type Base<'a> = dyn Fn(usize, &[u8]) -> Result<Option<IVec>, StoreError> + 'a;

/// Changes not yet in sled: the running command's own, this batch's kept ones, and
/// those of earlier batches still being written (newest first).
pub(super) struct Overlay<'a, const N: usize> {
    spaces: [&'a Space; N],
    /// Reads the database in place of the spaces (a PostgreSQL transaction).
    base: Option<&'a Base<'a>>,
    below: Vec<Arc<Changes<N>>>,
    kept: Changes<N>,
    scratch: Changes<N>,
}

impl<'a, const N: usize> Overlay<'a, N> {
    /// An overlay on `spaces`, above the changes of batches not yet written.
    pub fn new(spaces: [&'a Space; N], below: Vec<Arc<Changes<N>>>) -> Self {
        Overlay {
            spaces,
            base: None,
            below,
            kept: std::array::from_fn(|_| Layer::default()),
            scratch: std::array::from_fn(|_| Layer::default()),
        }
    }

    /// Read the database through `base` instead of the spaces.
    pub fn reading(mut self, base: &'a Base<'a>) -> Self {
        self.base = Some(base);
        self
    }

    /// The value as this command sees it: its own changes, then the batch's, then
    /// those of batches still being written, then sled.
    pub fn get(&self, tree: usize, key: impl AsRef<[u8]>) -> Result<Option<IVec>, StoreError> {
        let key = key.as_ref();
        for layer in [&self.scratch, &self.kept]
            .into_iter()
            .chain(self.below.iter().map(|b| &**b))
        {
            if let Some(v) = layer[tree].get(key) {
                return Ok(v.clone());
            }
        }
        match self.base {
            Some(read) => read(tree, key),
            None => self.spaces[tree].get(key),
        }
    }

    pub fn insert(&mut self, tree: usize, key: impl AsRef<[u8]>, value: impl Into<IVec>) {
        self.scratch[tree].insert(key.as_ref().to_vec(), Some(value.into()));
    }

    pub fn remove(&mut self, tree: usize, key: impl AsRef<[u8]>) {
        self.scratch[tree].insert(key.as_ref().to_vec(), None);
    }

    /// The running command succeeded: its changes join the batch.
    pub fn keep(&mut self) {
        for (kept, scratch) in self.kept.iter_mut().zip(self.scratch.iter_mut()) {
            kept.extend(scratch.drain());
        }
    }

    /// The running command was refused: forget what it wrote.
    pub fn discard(&mut self) {
        for s in &mut self.scratch {
            s.clear();
        }
    }

    /// The batch's changes, to be written (see `Pipeline`).
    pub fn finish(self) -> Changes<N> {
        self.kept
    }
}

/// How `write_changes` ends a batch's write.
#[derive(Clone, Copy, Default)]
pub(super) struct How<'a> {
    /// With `fsync`: makes the batch durable before its journal is removed.
    pub barrier: Option<super::journal::Barrier<'a>>,
    /// A test's failing disk (`Fault::WriteAfter`): fail after this many writes.
    pub cut: Option<usize>,
}

/// Write batch `seq`'s changes, all or nothing (see `journal`): the spaces all
/// live in `tree`, the journal too. With a barrier (`fsync`), the batch is made
/// durable before its journal is removed; true when it was.
pub(super) fn write_changes<const N: usize>(
    w: &super::space::Writer<'_>,
    tree: &super::space::Shared,
    spaces: [&Space; N],
    journal: &Space,
    seq: u64,
    changes: &Changes<N>,
    how: How<'_>,
) -> Result<bool, StoreError> {
    if changes.iter().all(|l| l.is_empty()) {
        return Ok(false);
    }
    let all = spaces
        .iter()
        .zip(changes)
        .flat_map(|(space, layer)| layer.iter().map(|(k, v)| (space.key(k), v.as_ref())));
    match how.cut {
        None => super::journal::write(w, tree, journal, seq, all, how.barrier),
        Some(ops) => {
            super::journal::write_cut(
                w,
                tree,
                journal,
                seq,
                all,
                how.barrier,
                super::journal::chunk(how.barrier.is_some()),
                ops,
            )?;
            Err(StoreError::Storage(format!(
                "an injected write failure after {ops} writes"
            )))
        }
    }
}

/// Batches whose commands have run but whose changes are not yet in sled. The next
/// batch runs while the one before is written, reading through its changes, so that
/// the engine's work and sled's overlap on two cores. Writes happen in the order the
/// batches ran.
pub(super) struct Pipeline<const N: usize> {
    /// Each batch not yet written: its number, the store's epoch it ran in (see
    /// `health`) and its changes.
    pending: Mutex<VecDeque<(u64, u64, Arc<Changes<N>>)>>,
    next: Mutex<u64>,
    /// The batch whose turn it is to be written.
    turn: Mutex<u64>,
    turned: Condvar,
    /// Broken when a write failed: batches that ran on top of its changes must not
    /// be written either, nor those that ran before the store opened its database
    /// again (they read what it held then).
    health: Arc<super::health::Health>,
}

/// A batch waiting for its turn to be written.
pub(super) struct Staged<const N: usize> {
    seq: u64,
    epoch: u64,
    changes: Arc<Changes<N>>,
}

impl<const N: usize> Pipeline<N> {
    pub fn new(health: Arc<super::health::Health>) -> Self {
        Pipeline {
            pending: Mutex::new(VecDeque::new()),
            next: Mutex::new(0),
            turn: Mutex::new(0),
            turned: Condvar::new(),
            health,
        }
    }

    /// The changes not yet written, newest first, for the next batch to read through,
    /// of batches that ran in `epoch` (the others will not be written).
    pub fn below(&self, epoch: u64) -> Vec<Arc<Changes<N>>> {
        let pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        pending
            .iter()
            .rev()
            .filter(|(_, e, _)| *e == epoch)
            .map(|(_, _, c)| c.clone())
            .collect()
    }

    /// Queue a batch's changes for writing. Batches are staged one at a time, in
    /// the order they ran (only one batch runs at a time).
    /// `epoch` is the store's when the batch began to run (before it read anything).
    pub fn stage(&self, changes: Changes<N>, epoch: u64) -> Staged<N> {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let seq = *next;
        *next += 1;
        let changes = Arc::new(changes);
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push_back((seq, epoch, changes.clone()));
        Staged {
            seq,
            epoch,
            changes,
        }
    }

    /// Write a staged batch with `write` once every batch staged before it is
    /// written. A failed (or panicking) write fails every batch after it.
    pub fn write<T>(
        &self,
        staged: Staged<N>,
        write: impl FnOnce(u64, &Changes<N>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut turn = self.turn.lock().unwrap_or_else(|e| e.into_inner());
        while *turn != staged.seq {
            turn = self.turned.wait(turn).unwrap_or_else(|e| e.into_inner());
        }
        drop(turn);
        // Whatever happens below, the next batch gets its turn.
        let mut done = Done {
            pipeline: self,
            seq: staged.seq,
            ok: false,
        };
        let res = match self.health.broken() {
            Some(why) => Err(super::health::refused(&why)),
            None if self.health.epoch() != staged.epoch => Err(super::health::refused(
                "the database was opened again while this batch ran",
            )),
            None => write(staged.seq, &staged.changes),
        };
        if let Some(why) = res.as_ref().err().and_then(super::health::cause) {
            self.health.fail(format!("a write failed: {why}"));
        }
        done.ok = true;
        res
    }
}

/// Ends a batch's turn to be written: its changes leave the pending list (sled has
/// them now, or the pipeline is broken) and the next batch may write.
struct Done<'a, const N: usize> {
    pipeline: &'a Pipeline<N>,
    seq: u64,
    /// False while unwinding from a panic in the write.
    ok: bool,
}

impl<const N: usize> Drop for Done<'_, N> {
    fn drop(&mut self) {
        let p = self.pipeline;
        if !self.ok {
            p.health.fail("a write panicked");
        }
        p.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(seq, _, _)| *seq != self.seq);
        *p.turn.lock().unwrap_or_else(|e| e.into_inner()) = self.seq + 1;
        p.turned.notify_all();
    }
}

/// Answers travel boxed: an answer (an instance with its records) is hundreds of
/// bytes, and a channel moves and stores each message by value.
enum Answer<O> {
    Done(usize, Box<O>),
    /// No batch runs and requests wait: run the next one.
    Lead,
}

/// Where a caller waits for its answers.
enum To<O> {
    /// A thread, blocked on its channel. It may be asked to run the next batch.
    Thread(mpsc::Sender<Answer<O>>),
    /// A thread that only waits, while helper threads (see `Leads`) run the batches.
    Parked(mpsc::Sender<Answer<O>>),
    /// A task on an async runtime. It only waits: a helper thread (see `Leads`) runs
    /// the batch in its place, so that no runtime worker blocks on the disk.
    Task(tokio::sync::mpsc::UnboundedSender<(usize, Box<O>)>),
}

impl<O> To<O> {
    fn answer(&self, index: usize, o: O) {
        // A caller that went away needs no answer.
        match self {
            To::Thread(t) | To::Parked(t) => {
                let _ = t.send(Answer::Done(index, Box::new(o)));
            }
            To::Task(t) => {
                let _ = t.send((index, Box::new(o)));
            }
        }
    }
}

impl<O> Clone for To<O> {
    fn clone(&self) -> Self {
        match self {
            To::Thread(t) => To::Thread(t.clone()),
            To::Parked(t) => To::Parked(t.clone()),
            To::Task(t) => To::Task(t.clone()),
        }
    }
}

/// Where a request's answer goes: its position in its caller's list, and the caller.
type Reply<O> = (usize, To<O>);

struct Waiting<R, O> {
    request: R,
    /// Position in its caller's list, and where to send the answer.
    index: usize,
    to: To<O>,
}

struct Queue<R, O> {
    waiting: VecDeque<Waiting<R, O>>,
    running: bool,
}

/// A caller's answers as they arrive, in its order.
struct Answers<O> {
    slots: Vec<Option<O>>,
    left: usize,
}

impl<O> Answers<O> {
    fn new(n: usize) -> Self {
        Answers {
            slots: (0..n).map(|_| None).collect(),
            left: n,
        }
    }

    fn put(&mut self, index: usize, o: O) {
        if let Some(slot) = self.slots.get_mut(index) {
            self.left -= usize::from(slot.is_none());
            *slot = Some(o);
        }
    }

    fn complete(&self) -> bool {
        self.left == 0
    }

    /// The answers, with `failed` for any that never came.
    fn finish(self, failed: impl Fn() -> O) -> Vec<O> {
        self.slots
            .into_iter()
            .map(|a| a.unwrap_or_else(&failed))
            .collect()
    }
}

/// Batches owed to helper threads: asked for when the next batch's first request
/// comes from an async task, which cannot run it itself.
#[derive(Default)]
pub(super) struct Leads {
    owed: Mutex<usize>,
    ready: Condvar,
}

impl Leads {
    fn ask(&self) {
        *self.owed.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.ready.notify_one();
    }

    /// For a helper thread: wait up to `timeout` for a batch to run. True when the
    /// caller must now run it (`Combiner::lead`).
    pub fn wait(&self, timeout: Duration) -> bool {
        let mut owed = self.owed.lock().unwrap_or_else(|e| e.into_inner());
        if *owed == 0 {
            owed = self
                .ready
                .wait_timeout(owed, timeout)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if *owed > 0 {
            *owed -= 1;
            true
        } else {
            false
        }
    }
}

/// The queue of commands waiting for a batch. Each caller is woken once, when its
/// answers are final, and never by another caller's answers.
pub(super) struct Combiner<R, O> {
    queue: Mutex<Queue<R, O>>,
    leads: Arc<Leads>,
}

impl<R, O> Combiner<R, O> {
    pub fn new() -> Self {
        Combiner {
            queue: Mutex::new(Queue {
                waiting: VecDeque::new(),
                running: false,
            }),
            leads: Arc::default(),
        }
    }

    /// What helper threads wait on; they need it without holding the store.
    pub fn leads(&self) -> Arc<Leads> {
        self.leads.clone()
    }

    /// Queue requests; true when no batch runs, so that the caller must start one.
    fn enqueue(&self, requests: Vec<R>, to: To<O>) -> bool {
        let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        for (index, request) in requests.into_iter().enumerate() {
            q.waiting.push_back(Waiting {
                request,
                index,
                to: to.clone(),
            });
        }
        !std::mem::replace(&mut q.running, true)
    }

    /// Queue `requests` and return their answers, in order. A caller that finds no
    /// batch running runs one itself, of everything queued so far, in two phases:
    /// `exec` applies the batch, then the next batch may start while `settle`
    /// finishes this one (waits for the disk) and turns it into answers. `failed`
    /// answers the requests of a batch that panicked, so no caller waits forever.
    pub fn run<P>(
        &self,
        requests: Vec<R>,
        exec: impl Fn(Vec<R>) -> P,
        settle: impl Fn(P) -> Vec<O>,
        failed: impl Fn() -> O,
    ) -> Vec<O> {
        let n = requests.len();
        let (to, from) = mpsc::channel();
        if self.enqueue(requests, To::Thread(to)) {
            self.lead(&exec, &settle, &failed);
        }
        let mut answers = Answers::new(n);
        while !answers.complete() {
            match from.recv() {
                Ok(Answer::Done(i, o)) => answers.put(i, *o),
                Ok(Answer::Lead) => self.lead(&exec, &settle, &failed),
                // Every sender gone with answers missing: cannot happen, as each
                // waiting request is answered before it is dropped.
                Err(_) => break,
            }
        }
        answers.finish(failed)
    }

    /// As `run`, for a thread that leaves the batches to the helper threads waiting
    /// on `leads`: a thread runs a batch at the cost of waking another to run the
    /// next, while the helpers are already awake.
    pub fn run_parked(&self, requests: Vec<R>, failed: impl Fn() -> O) -> Vec<O> {
        let n = requests.len();
        let (to, from) = mpsc::channel();
        if self.enqueue(requests, To::Parked(to)) {
            self.leads.ask();
        }
        let mut answers = Answers::new(n);
        while !answers.complete() {
            match from.recv() {
                Ok(Answer::Done(i, o)) => answers.put(i, *o),
                // Parked callers are never asked to lead.
                Ok(Answer::Lead) => {}
                Err(_) => break,
            }
        }
        answers.finish(failed)
    }

    /// As `run`, for a task on an async runtime: it waits without blocking a
    /// worker, and helper threads waiting on `leads` run the batches. A dropped
    /// future still has its requests run; only their answers are lost.
    pub async fn run_async(&self, requests: Vec<R>, failed: impl Fn() -> O) -> Vec<O> {
        let n = requests.len();
        let (to, mut from) = tokio::sync::mpsc::unbounded_channel();
        if self.enqueue(requests, To::Task(to)) {
            self.leads.ask();
        }
        let mut answers = Answers::new(n);
        while !answers.complete() {
            match from.recv().await {
                Some((i, o)) => answers.put(i, *o),
                None => break,
            }
        }
        answers.finish(failed)
    }

    /// Run the next batch (a caller told to lead, or a helper thread).
    pub fn lead<P>(
        &self,
        exec: &impl Fn(Vec<R>) -> P,
        settle: &impl Fn(P) -> Vec<O>,
        failed: &impl Fn() -> O,
    ) {
        let batch: Vec<Waiting<R, O>> = {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            let n = q.waiting.len().min(MAX_BATCH);
            q.waiting.drain(..n).collect()
        };
        let (work, reply): (Vec<R>, Vec<Reply<O>>) = batch
            .into_iter()
            .map(|w| (w.request, (w.index, w.to)))
            .unzip();
        let applied = catch_unwind(AssertUnwindSafe(|| exec(work)));
        // Hand on: the next batch runs while this one waits for the disk.
        {
            let mut q = self.queue.lock().unwrap_or_else(|e| e.into_inner());
            loop {
                let Some(next) = q.waiting.front() else {
                    q.running = false;
                    break;
                };
                match &next.to {
                    To::Thread(t) => {
                        if t.send(Answer::Lead).is_ok() {
                            break;
                        }
                        // Its caller is gone (it cannot be while it waits, but a
                        // request nobody waits for needs no answer): skip it.
                        q.waiting.pop_front();
                    }
                    To::Parked(_) | To::Task(_) => {
                        self.leads.ask();
                        break;
                    }
                }
            }
        }
        let answers = applied.and_then(|p| catch_unwind(AssertUnwindSafe(|| settle(p))));
        match answers {
            Ok(outs) => {
                for ((i, to), o) in reply.into_iter().zip(outs) {
                    to.answer(i, o);
                }
            }
            Err(_) => {
                for (i, to) in reply {
                    to.answer(i, failed());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A database with one space and a journal beside it.
    struct Fixture {
        tree: super::super::space::Shared,
        t: Space,
        j: Space,
        lock: std::sync::RwLock<()>,
    }

    impl Fixture {
        fn new() -> Fixture {
            use super::super::{kind::Kind, space::Shared};
            let db = sled::Config::new().temporary(true).open().expect("db");
            let tree = Shared::new(db.open_tree("t").expect("tree"));
            Fixture {
                t: Space::new(tree.clone(), Kind::Meta),
                j: Space::journal(tree.clone()),
                tree,
                lock: std::sync::RwLock::new(()),
            }
        }

        fn write(&self, seq: u64, changes: &Changes<1>) -> Result<bool, StoreError> {
            let w = super::super::space::Writer::alone(self.lock.write().expect("lock"));
            let how = How::default();
            write_changes(&w, &self.tree, [&self.t], &self.j, seq, changes, how)
        }
    }

    #[test]
    fn every_caller_gets_its_own_answers_in_order() {
        let c: Arc<Combiner<u32, u32>> = Arc::new(Combiner::new());
        let threads: Vec<_> = (0..8u32)
            .map(|i| {
                let c = c.clone();
                std::thread::spawn(move || {
                    let reqs: Vec<u32> = (0..50).map(|j| i * 1000 + j).collect();
                    let got = c.run(
                        reqs.clone(),
                        |w| w.into_iter().map(|x| x * 2).collect::<Vec<_>>(),
                        |p| p,
                        || 0,
                    );
                    assert_eq!(got, reqs.iter().map(|x| x * 2).collect::<Vec<_>>());
                })
            })
            .collect();
        for t in threads {
            t.join().expect("thread");
        }
    }

    #[test]
    fn parked_callers_get_their_answers_from_the_helper_thread() {
        let c: Arc<Combiner<u32, u32>> = Arc::new(Combiner::new());
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let helper = {
            let (c, stop) = (c.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut batches = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if c.leads().wait(Duration::from_millis(10)) {
                        c.lead(
                            &|w: Vec<u32>| w.into_iter().map(|x| x + 1).collect::<Vec<_>>(),
                            &|p| p,
                            &|| 0,
                        );
                        batches += 1;
                    }
                }
                batches
            })
        };
        let callers: Vec<_> = (0..8u32)
            .map(|i| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for round in 0..20 {
                        let reqs: Vec<u32> = (0..5).map(|j| i * 1000 + round * 10 + j).collect();
                        let got = c.run_parked(reqs.clone(), || 0);
                        assert_eq!(got, reqs.iter().map(|x| x + 1).collect::<Vec<_>>());
                    }
                })
            })
            .collect();
        for t in callers {
            t.join().expect("caller");
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // The helper ran the batches: a parked caller has no way to.
        assert!(helper.join().expect("helper") > 0);
    }

    #[test]
    fn a_panicking_batch_answers_everyone() {
        let c: Combiner<u32, Option<u32>> = Combiner::new();
        let got = c.run(
            vec![1, 2],
            |_| -> Vec<Option<u32>> { panic!("boom") },
            |p| p,
            || None,
        );
        assert_eq!(got, vec![None, None]);
        // The queue is usable again afterwards.
        assert_eq!(
            c.run(
                vec![3],
                |w| w.into_iter().map(Some).collect::<Vec<_>>(),
                |p| p,
                || None
            ),
            vec![Some(3)]
        );
    }

    #[test]
    fn a_discarded_command_leaves_the_kept_ones() {
        let f = Fixture::new();
        let t = &f.t;
        let mut o = Overlay::new([t], Vec::new());
        o.insert(0, b"a", b"1".to_vec());
        o.keep();
        o.insert(0, b"b", b"2".to_vec());
        assert_eq!(o.get(0, b"b").expect("get").as_deref(), Some(&b"2"[..]));
        o.discard();
        assert_eq!(o.get(0, b"b").expect("get"), None);
        assert_eq!(o.get(0, b"a").expect("get").as_deref(), Some(&b"1"[..]));
        f.write(0, &o.finish()).expect("write");
        assert_eq!(t.get(b"a").expect("get").as_deref(), Some(&b"1"[..]));
        assert_eq!(t.get(b"b").expect("get"), None);
    }

    #[test]
    fn a_batch_reads_through_the_one_still_being_written_and_writes_after_it() {
        let f = Fixture::new();
        let t = &f.t;
        let p: Pipeline<1> = Pipeline::new(Arc::default());
        let mut first = Overlay::new([t], p.below(0));
        first.insert(0, b"k", b"1".to_vec());
        first.keep();
        let first = p.stage(first.finish(), 0);
        // The second batch runs before the first is written, and sees its change.
        let mut second = Overlay::new([t], p.below(0));
        assert_eq!(
            second.get(0, b"k").expect("get").as_deref(),
            Some(&b"1"[..])
        );
        second.insert(0, b"k", b"2".to_vec());
        second.keep();
        let second = p.stage(second.finish(), 0);
        assert_eq!(t.get(b"k").expect("get"), None);
        // The second asks to be written first: it waits for the first.
        std::thread::scope(|s| {
            let later = s.spawn(|| p.write(second, |seq, c| f.write(seq, c)));
            p.write(first, |seq, c| f.write(seq, c)).expect("first");
            later.join().expect("thread").expect("second");
        });
        assert_eq!(t.get(b"k").expect("get").as_deref(), Some(&b"2"[..]));
        assert!(p.below(0).is_empty());
    }

    #[test]
    fn after_a_failed_write_the_batches_that_read_it_are_not_written() {
        let f = Fixture::new();
        let t = &f.t;
        let p: Pipeline<1> = Pipeline::new(Arc::default());
        let mut first = Overlay::new([t], p.below(0));
        first.insert(0, b"a", b"1".to_vec());
        first.keep();
        let first = p.stage(first.finish(), 0);
        let mut second = Overlay::new([t], p.below(0));
        second.insert(0, b"b", b"2".to_vec());
        second.keep();
        let second = p.stage(second.finish(), 0);
        assert!(p
            .write(first, |_, _| -> Result<(), _> {
                Err(StoreError::Storage("disk full".into()))
            })
            .is_err());
        let err = p
            .write(second, |seq, c| f.write(seq, c))
            .expect_err("refused");
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(t.get(b"b").expect("get"), None);
    }
}
