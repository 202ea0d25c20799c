//! LLM serving on GPUs: a replica of a model server that run engine steps
//! (one forward pass over a batch of decodes and prefill chunks), timed by
//! the [`crate::kinds::serving::roofline`] model, with KV-cache memory in blocks.
//!
//! Three schedulers, each following a named serving engine
//! (`shared/reference/llm-serving.md` §0 and §1.3):
//!
//! - `static` — FasterTransformer / TensorRT-LLM static batching: a batch
//!   of up to `max_batch` requests starts when it is full or its oldest
//!   request has waited `max_wait`; KV for prompt + output is reserved for
//!   every member at the start; the whole batch prefills in one step, then
//!   decodes until its longest request ends. Nobody joins mid-way and the
//!   memory is freed when the batch ends (each member's answer streams and
//!   completes at its own last token).
//! - `continuous` — vLLM V0 (Orca iteration-level scheduling with
//!   PagedAttention): every step is either a prefill-only step of whole
//!   prompts admitted first-come first-served (within `max_num_seqs`,
//!   `max_num_batched_tokens` and free blocks) — prefills take priority —
//!   or a decode step of every running request.
//! - `chunked` — vLLM V1 / Sarathi-Serve chunked prefill: every step first
//!   gives each running decode its token, then fills the token budget
//!   `max_num_batched_tokens` with prefill chunks, unfinished prompts first,
//!   then new requests first-come first-served (stall-free batching).
//!
//! KV memory is paged in blocks of `block_size` tokens: a request holds
//! `ceil(cached tokens / block_size)` blocks, allocated as chunks are
//! computed and as decodes cross a block boundary. When a decode step
//! needs blocks that are not free, the most recently admitted running
//! request is preempted by recompute (vLLM's default): its blocks are
//! freed and it goes back to the front of the waiting queue, to prefill
//! its prompt and the tokens it had generated again. New requests are
//! admitted only in a step without preemption, and stop at the first that
//! does not fit (head of line).
//!
//! Decodes advance together, so a replica keeps their state as of the
//! decode iteration they joined at: one step costs O(1) for all decodes
//! (a running sum of contexts, block-boundary counters by context modulo
//! the block size) plus O(log n) per request that finishes.

use super::llm::{LlmPlan, SchedulerKind, MAX_STEP};
use super::roofline::StepShape;
use scalesim_sim::{from_secs, Slab, Time};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// A request as a replica sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Job {
    /// The visit it answers.
    pub visit: u32,
    /// Prompt tokens.
    pub prompt: u32,
    /// Output tokens to generate.
    pub output: u32,
    /// When it reached the replica.
    pub arrived: Time,
}

/// What a replica does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// A step is running until this long from now.
    Step(Time),
    /// Nothing to run before this instant (a static batch waiting to fill).
    Wait(Time),
    /// No work.
    Idle,
}

/// A request that ended at a step's end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finished {
    /// Its job.
    pub job: Job,
    /// When its first token was emitted.
    pub first_token: Time,
}

#[derive(Clone, Copy, Debug)]
struct Seq {
    job: Job,
    /// Tokens emitted so far.
    generated: u32,
    /// Tokens whose KV is cached.
    computed: u32,
    /// Blocks held.
    blocks: u32,
    /// Tokens scheduled in the running step.
    sched: u32,
    /// Admission number (larger = newer).
    admitted: u64,
    /// Time of the first token (`Time::MAX`: none yet).
    first: Time,
}

impl Seq {
    fn new(job: Job) -> Seq {
        Seq {
            job,
            generated: 0,
            computed: 0,
            blocks: 0,
            sched: 0,
            admitted: 0,
            first: Time::MAX,
        }
    }

    /// Tokens to have cached before the next token is sampled.
    fn target(&self) -> u32 {
        self.job.prompt + self.generated
    }
}

/// A sequence in the decode phase, as of decode iteration `d0`.
#[derive(Clone, Copy, Debug)]
struct Dec {
    seq: Seq,
    d0: u64,
    /// When it emitted the token it joined with.
    joined: Time,
    prev: u32,
    next: u32,
}

const NIL: u32 = u32::MAX;

/// One model-server replica: its queue, running batch and KV blocks.
pub struct Replica {
    plan: LlmPlan,
    waiting: VecDeque<Seq>,
    /// Running requests still prefilling, in admission order.
    prefilling: Vec<Seq>,
    /// Running requests decoding, a list in admission order.
    dec: Slab<Dec>,
    head: u32,
    tail: u32,
    decoding: u32,
    /// (iteration of the last token, admission number, slot).
    finish: BinaryHeap<Reverse<(u64, u64, u32)>>,
    /// Decoding sequences by (context - join iteration) mod block size.
    boundary: Vec<u32>,
    /// Sum of the decoding sequences' cached tokens.
    ctx_sum: u64,
    /// Decode iterations run so far.
    iteration: u64,
    free_blocks: u64,
    /// `static`: blocks reserved by the running batch.
    batch_blocks: u64,
    admissions: u64,
    /// The running step has a decode iteration.
    step_decodes: bool,
    stepping: bool,
    /// Output tokens emitted.
    pub tokens_out: u64,
    /// Prompt tokens prefilled (recomputed ones included).
    pub tokens_in: u64,
    /// Requests preempted.
    pub preemptions: u64,
    /// Inter-token gaps of the last step's decodes: (gap, how many tokens
    /// had it), filled by [`Replica::finish`].
    pub itl: Vec<(Time, u32)>,
    /// When the last decode iteration ended.
    last_decode_end: Time,
    /// Decoding sequences that joined since the last decode iteration, by
    /// the time of the token they joined with.
    fresh: Vec<(Time, u32)>,
    /// Sequences in the running step.
    pub batch: u32,
}

impl Replica {
    /// An idle replica with an empty KV cache.
    pub fn new(plan: LlmPlan) -> Replica {
        Replica {
            boundary: vec![0; plan.block_size as usize],
            free_blocks: plan.blocks,
            plan,
            waiting: VecDeque::new(),
            prefilling: Vec::new(),
            dec: Slab::new(),
            head: NIL,
            tail: NIL,
            decoding: 0,
            finish: BinaryHeap::new(),
            ctx_sum: 0,
            iteration: 0,
            batch_blocks: 0,
            admissions: 0,
            step_decodes: false,
            stepping: false,
            tokens_out: 0,
            tokens_in: 0,
            preemptions: 0,
            itl: Vec::new(),
            last_decode_end: 0,
            fresh: Vec::new(),
            batch: 0,
        }
    }

    /// Queues a request; false when it can never be served here (prompt
    /// too long, more KV than the replica has, or the waiting room full).
    pub fn push(&mut self, mut job: Job) -> bool {
        let p = &self.plan;
        if job.prompt == 0 || job.prompt >= p.max_len {
            return false;
        }
        job.output = job.output.clamp(1, p.max_len - job.prompt);
        // Paged schedulers cache every token but the last; static batches
        // reserve prompt + output.
        let cached = job.prompt + job.output - (p.scheduler != SchedulerKind::Static) as u32;
        if self.blocks_for(cached) > p.blocks
            || p.queue_capacity
                .is_some_and(|c| self.waiting.len() as u64 >= c)
        {
            return false;
        }
        self.waiting.push_back(Seq::new(job));
        true
    }

    fn blocks_for(&self, tokens: u32) -> u64 {
        tokens.div_ceil(self.plan.block_size) as u64
    }

    /// Requests waiting for admission.
    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }

    /// Requests admitted and not finished.
    pub fn running(&self) -> usize {
        self.prefilling.len() + self.decoding as usize
    }

    /// The visits of every request it holds, waiting or running (lost
    /// when the replica fails).
    pub fn visits(&self) -> Vec<u32> {
        let running = self.prefilling.iter().map(|s| s.job.visit);
        let decoding = self.dec.live().map(|d| d.seq.job.visit);
        self.waiting
            .iter()
            .map(|s| s.job.visit)
            .chain(running)
            .chain(decoding)
            .collect()
    }

    /// KV blocks in use.
    pub fn used_blocks(&self) -> u64 {
        self.plan.blocks - self.free_blocks
    }

    /// KV blocks of the replica.
    pub fn total_blocks(&self) -> u64 {
        self.plan.blocks
    }

    /// A step is running.
    pub fn stepping(&self) -> bool {
        self.stepping
    }

    /// Chooses the next step at `now` (when no step is running).
    pub fn plan(&mut self, now: Time) -> Plan {
        debug_assert!(!self.stepping);
        let mut shape = StepShape::default();
        self.step_decodes = false;
        match self.plan.scheduler {
            SchedulerKind::Static => {
                if self.decoding > 0 {
                    self.decode_step(&mut shape);
                } else if !self.waiting.is_empty() {
                    let oldest = self.waiting[0].job.arrived;
                    let full = self.waiting.len() as u32 >= self.plan.max_batch;
                    let due = oldest.saturating_add(self.plan.max_wait);
                    if !full && now < due {
                        return Plan::Wait(due);
                    }
                    self.start_static_batch(&mut shape);
                }
            }
            SchedulerKind::Continuous => {
                if !self.admit(&mut shape, true) {
                    self.decode_step(&mut shape);
                }
            }
            SchedulerKind::Chunked => {
                let preempted = self.decode_step(&mut shape);
                self.continue_prefills(&mut shape);
                if !preempted {
                    self.admit(&mut shape, false);
                }
                if shape.tokens == 0 && !self.prefilling.is_empty() {
                    // Partial prefills hold every block: free the newest.
                    self.preempt_newest();
                    return self.plan(now);
                }
            }
        }
        if shape.tokens == 0 {
            return Plan::Idle;
        }
        self.stepping = true;
        self.batch = self.decoding * self.step_decodes as u32
            + self.prefilling.iter().filter(|s| s.sched > 0).count() as u32;
        let t = match self.plan.step_time {
            Some(t) => t,
            // At least 1 ns; at most a day (absurd GPU figures stay finite).
            None => from_secs(self.plan.roofline.step_s(&shape)).clamp(1, MAX_STEP),
        };
        Plan::Step(t)
    }

    /// Schedules one token for every decoding sequence, preempting the
    /// newest running requests while the blocks they need are missing.
    /// Returns true when it preempted.
    fn decode_step(&mut self, shape: &mut StepShape) -> bool {
        let mut preempted = false;
        if self.plan.scheduler != SchedulerKind::Static {
            loop {
                let need = self.crossing() as u64;
                if need <= self.free_blocks || self.running() == 0 {
                    break;
                }
                self.preempt_newest();
                preempted = true;
            }
            if self.decoding > 0 {
                self.free_blocks -= self.crossing() as u64;
            }
        }
        if self.decoding > 0 {
            self.step_decodes = true;
            let d = self.decoding as u64;
            shape.tokens += d;
            shape.sampled += d;
            shape.decode_ctx += self.ctx_sum + d;
        }
        preempted
    }

    /// Decoding sequences whose next token starts a new block.
    fn crossing(&self) -> u32 {
        let b = self.plan.block_size as u64;
        self.boundary[((b - self.iteration % b) % b) as usize]
    }

    /// Gives unfinished prompts their next chunks within the budget.
    fn continue_prefills(&mut self, shape: &mut StepShape) {
        let mut i = 0;
        while i < self.prefilling.len() {
            let budget =
                self.plan.max_tokens as u64 - shape.tokens.min(self.plan.max_tokens as u64);
            let s = self.prefilling[i];
            let want = ((s.target() - s.computed) as u64).min(budget) as u32;
            let n = self.fit(&s, want);
            if n > 0 {
                self.take(i, n, shape);
            }
            i += 1;
        }
    }

    /// The most of `want` tokens of `s` whose blocks are free.
    fn fit(&self, s: &Seq, want: u32) -> u32 {
        let b = self.plan.block_size;
        let held = s.blocks as u64 * b as u64 - s.computed as u64;
        let room = held + self.free_blocks * b as u64;
        (want as u64).min(room) as u32
    }

    /// Schedules `n` tokens of prefilling sequence `i`, taking its blocks.
    fn take(&mut self, i: usize, n: u32, shape: &mut StepShape) {
        let s = &mut self.prefilling[i];
        let blocks = (s.computed + n).div_ceil(self.plan.block_size);
        if self.plan.scheduler != SchedulerKind::Static {
            self.free_blocks -= (blocks - s.blocks) as u64;
            s.blocks = blocks;
        }
        s.sched = n;
        let last = s.computed + n == s.target();
        shape.add_chunk(n as u64, s.computed as u64, last);
    }

    /// Admits waiting requests first-come first-served. `whole`: each
    /// needs its whole prompt in this step (vLLM V0). Returns true when it
    /// admitted any.
    fn admit(&mut self, shape: &mut StepShape, whole: bool) -> bool {
        let mut any = false;
        while let Some(&s) = self.waiting.front() {
            if self.running() as u32 >= self.plan.max_seqs {
                break;
            }
            let budget =
                self.plan.max_tokens as u64 - shape.tokens.min(self.plan.max_tokens as u64);
            let left = s.target() as u64;
            if budget == 0 || (whole && left > budget) {
                break;
            }
            let want = left.min(budget) as u32;
            if self.fit(&s, want) < want {
                break;
            }
            self.waiting.pop_front();
            self.admissions += 1;
            self.prefilling.push(Seq {
                admitted: self.admissions,
                ..s
            });
            let i = self.prefilling.len() - 1;
            self.take(i, want, shape);
            any = true;
        }
        any
    }

    /// `static`: takes up to `max_batch` waiting requests whose prompt +
    /// output fit in the free blocks, and prefills them whole.
    fn start_static_batch(&mut self, shape: &mut StepShape) {
        while let Some(&s) = self.waiting.front() {
            if self.prefilling.len() as u32 >= self.plan.max_batch {
                break;
            }
            let need = self.blocks_for(s.job.prompt + s.job.output);
            if need > self.free_blocks {
                break;
            }
            self.free_blocks -= need;
            self.batch_blocks += need;
            self.waiting.pop_front();
            self.admissions += 1;
            self.prefilling.push(Seq {
                admitted: self.admissions,
                ..s
            });
            let i = self.prefilling.len() - 1;
            let n = s.target();
            self.take(i, n, shape);
        }
    }

    /// Preempts the most recently admitted running request (recompute).
    fn preempt_newest(&mut self) {
        let last_prefill = self.prefilling.last().map(|s| s.admitted).unwrap_or(0);
        let last_decode = if self.tail == NIL {
            0
        } else {
            self.dec[self.tail].seq.admitted
        };
        let mut s = if last_prefill > last_decode {
            self.prefilling.pop().expect("a prefilling request")
        } else if self.tail != NIL {
            let slot = self.tail;
            let d = self.dec[slot];
            if d.d0 == self.iteration {
                // It joined since the last decode iteration: it no longer
                // waits for its next token.
                if let Some(g) = self.fresh.iter_mut().find(|g| g.0 == d.joined) {
                    g.1 -= 1;
                }
            }
            self.leave_decoding(slot)
        } else {
            return;
        };
        self.free_blocks += s.blocks as u64;
        s.blocks = 0;
        s.computed = 0;
        s.sched = 0;
        self.preemptions += 1;
        self.waiting.push_front(s);
    }

    /// Removes decoding sequence `slot`; returns it as of now.
    fn leave_decoding(&mut self, slot: u32) -> Seq {
        let d = self.dec[slot];
        let b = self.plan.block_size as u64;
        let done = self.iteration - d.d0;
        let mut s = d.seq;
        s.computed += done as u32;
        s.generated += done as u32;
        s.blocks = s.computed.div_ceil(self.plan.block_size);
        self.ctx_sum -= s.computed as u64;
        let key = ((d.seq.computed as u64 + b - d.d0 % b) % b) as usize;
        self.boundary[key] -= 1;
        if d.prev == NIL {
            self.head = d.next;
        } else {
            self.dec[d.prev].next = d.next;
        }
        if d.next == NIL {
            self.tail = d.prev;
        } else {
            self.dec[d.next].prev = d.prev;
        }
        self.dec[slot].seq.admitted = 0;
        self.dec.remove(slot);
        self.decoding -= 1;
        s
    }

    fn join_decoding(&mut self, s: Seq, now: Time) {
        let b = self.plan.block_size as u64;
        let d0 = self.iteration;
        let slot = self.dec.insert(Dec {
            seq: s,
            d0,
            joined: now,
            prev: self.tail,
            next: NIL,
        });
        match self.fresh.last_mut() {
            Some(g) if g.0 == now => g.1 += 1,
            _ => self.fresh.push((now, 1)),
        }
        if self.tail == NIL {
            self.head = slot;
        } else {
            self.dec[self.tail].next = slot;
        }
        self.tail = slot;
        self.decoding += 1;
        self.ctx_sum += s.computed as u64;
        self.boundary[((s.computed as u64 + b - d0 % b) % b) as usize] += 1;
        // Its last token comes at iteration d0 + (output - generated) - 1.
        let last = d0 + (s.job.output - s.generated) as u64 - 1;
        self.finish.push(Reverse((last, s.admitted, slot)));
    }

    /// Runs from `now` with no new arrivals until idle (a closed batch, as
    /// fixed-batch benchmarks measure): appends each finished request with
    /// its finish time to `out`; returns when the last step ended and how
    /// many steps ran.
    pub fn drain(&mut self, mut now: Time, out: &mut Vec<(Finished, Time)>) -> (Time, u64) {
        let (mut done, mut steps) = (Vec::new(), 0);
        loop {
            match self.plan(now) {
                Plan::Step(dt) => {
                    now += dt;
                    self.finish(now, &mut done);
                    out.extend(done.drain(..).map(|f| (f, now)));
                    steps += 1;
                }
                Plan::Wait(t) => now = t,
                Plan::Idle => return (now, steps),
            }
        }
    }

    /// Ends the running step at `now`: applies its tokens and appends the
    /// requests that finished to `out`.
    pub fn finish(&mut self, now: Time, out: &mut Vec<Finished>) {
        debug_assert!(self.stepping);
        self.stepping = false;
        let is_static = self.plan.scheduler == SchedulerKind::Static;
        self.itl.clear();
        // The decode iteration.
        if self.step_decodes {
            // Each decode's gap since its previous token: the sequences that
            // joined since the last iteration from their joining token, the
            // others from that iteration (prefill-only steps stall them).
            let mut fresh = 0;
            for &(t, n) in &self.fresh {
                if n > 0 {
                    self.itl.push((now - t, n));
                    fresh += n;
                }
            }
            self.fresh.clear();
            if self.decoding > fresh {
                self.itl
                    .push((now - self.last_decode_end, self.decoding - fresh));
            }
            self.last_decode_end = now;
            // Iteration d has run: the decodes hold one more token each.
            let d = self.iteration;
            self.iteration = d + 1;
            self.tokens_out += self.decoding as u64;
            self.ctx_sum += self.decoding as u64;
            while let Some(&Reverse((last, admitted, slot))) = self.finish.peek() {
                if last > d {
                    break;
                }
                self.finish.pop();
                // Entries of preempted sequences are stale: their slot was
                // marked (admission 0) or reused by a newer admission.
                if self.dec[slot].seq.admitted != admitted {
                    continue;
                }
                debug_assert_eq!(last, d);
                let s = self.leave_decoding(slot);
                if !is_static {
                    self.free_blocks += s.blocks as u64;
                }
                out.push(Finished {
                    job: s.job,
                    first_token: s.first,
                });
            }
        }
        // Prefill chunks.
        let mut i = 0;
        while i < self.prefilling.len() {
            let s = &mut self.prefilling[i];
            if s.sched == 0 {
                i += 1;
                continue;
            }
            s.computed += s.sched;
            self.tokens_in += s.sched as u64;
            s.sched = 0;
            if s.computed < s.target() {
                i += 1;
                continue;
            }
            // The prompt is cached: sample the next token.
            s.generated += 1;
            self.tokens_out += 1;
            if s.first == Time::MAX {
                s.first = now;
            }
            let s = self.prefilling.remove(i);
            if s.generated >= s.job.output {
                if !is_static {
                    self.free_blocks += s.blocks as u64;
                }
                out.push(Finished {
                    job: s.job,
                    first_token: s.first,
                });
            } else {
                self.join_decoding(s, now);
            }
        }
        if is_static && self.decoding == 0 && self.prefilling.is_empty() {
            self.free_blocks += self.batch_blocks;
            self.batch_blocks = 0;
        }
        self.batch = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::super::llm::test_config as cfg;
    use super::*;

    fn job(visit: u32, prompt: u32, output: u32) -> Job {
        Job {
            visit,
            prompt,
            output,
            arrived: 0,
        }
    }

    /// Runs the replica until idle; returns (visit, finish time, first
    /// token) per request and the end time.
    fn drain(r: &mut Replica, now: Time) -> (Vec<(u32, Time, Time)>, Time) {
        let mut out = Vec::new();
        let (end, _) = r.drain(now, &mut out);
        let done = out
            .iter()
            .map(|(f, t)| (f.job.visit, *t, f.first_token))
            .collect();
        (done, end)
    }

    #[test]
    fn constant_steps_count_tokens_exactly() {
        // Step 10 ms: a prompt's prefill is one step (its first token),
        // then one token per step.
        for sched in ["chunked", "continuous", "static"] {
            let c = cfg(sched, "step_time: 10ms\nmax_model_len: 8192");
            let mut r = Replica::new(c.plan().unwrap());
            assert!(r.push(job(7, 100, 5)));
            let (done, end) = drain(&mut r, 0);
            let wait = if sched == "static" { 100_000_000 } else { 0 };
            assert_eq!(
                done,
                vec![(7, wait + 50_000_000, wait + 10_000_000)],
                "{sched}"
            );
            assert_eq!(end, wait + 50_000_000);
            assert_eq!(r.tokens_out, 5);
            assert_eq!(r.tokens_in, 100);
            assert_eq!(r.used_blocks(), 0, "{sched}: every block back");
        }
    }

    #[test]
    fn inter_token_gaps_include_prefill_stalls() {
        // vLLM V0 with 10 ms steps: request 1 decodes alone; request 2
        // arrives and its prefill-only step stalls request 1's decode, so
        // request 1 sees one 20 ms gap; request 2's first gap is 10 ms.
        let c = cfg("continuous", "step_time: 10ms\nmax_model_len: 8192");
        let mut r = Replica::new(c.plan().unwrap());
        r.push(job(1, 100, 5));
        let mut out = Vec::new();
        let mut gaps = Vec::new();
        let mut now = 0;
        for step in 0..8 {
            if step == 2 {
                r.push(Job {
                    visit: 2,
                    prompt: 50,
                    output: 3,
                    arrived: now,
                });
            }
            let Plan::Step(dt) = r.plan(now) else { break };
            now += dt;
            r.finish(now, &mut out);
            gaps.extend(r.itl.iter().copied());
        }
        let ms = 1_000_000;
        // Steps: P1 | D1 | P2 (stall) | D1+D2 | D1+D2 | D1 ...
        assert_eq!(gaps[0], (10 * ms, 1), "request 1's first decode");
        assert!(gaps.contains(&(20 * ms, 1)), "the stalled decode: {gaps:?}");
        assert!(gaps.contains(&(10 * ms, 1)));
        let tokens: u32 = gaps.iter().map(|g| g.1).sum();
        // 5 + 3 tokens, the first of each from a prefill: 6 gaps.
        assert_eq!(tokens, 6, "{gaps:?}");
        // Chunked: every step carries every decode, every gap is one step.
        let c = cfg("chunked", "step_time: 10ms");
        let mut r = Replica::new(c.plan().unwrap());
        r.push(job(1, 100, 5));
        r.push(job(2, 700, 3));
        let mut all = Vec::new();
        while let Plan::Step(dt) = r.plan(now) {
            now += dt;
            r.finish(now, &mut out);
            all.extend(r.itl.iter().copied());
        }
        assert!(all.iter().all(|g| g.0 == 10 * ms), "{all:?}");
        assert_eq!(all.iter().map(|g| g.1).sum::<u32>(), 6);
    }

    #[test]
    fn chunked_prefill_splits_long_prompts() {
        let c = cfg(
            "chunked",
            "step_time: 10ms\nmax_num_batched_tokens: 512\nmax_num_seqs: 16",
        );
        let mut r = Replica::new(c.plan().unwrap());
        r.push(job(1, 1200, 3));
        // 512 + 512 + 176: the first token after 3 steps, then 2 decodes.
        let (done, _) = drain(&mut r, 0);
        assert_eq!(done, vec![(1, 50_000_000, 30_000_000)]);
    }

    #[test]
    fn decodes_preempt_the_newest_when_blocks_run_out() {
        // 4 blocks of 16 tokens: two requests of 16-token prompts fit at
        // first; their decodes then need a third and fourth block, and
        // then fifth: the newest is preempted and recomputed later.
        let c = cfg(
            "chunked",
            "step_time: 10ms\nkv_blocks: 4\nmax_num_seqs: 8\nmax_model_len: 64",
        );
        let mut r = Replica::new(c.plan().unwrap());
        r.push(job(1, 16, 30));
        r.push(job(2, 16, 30));
        let (done, _) = drain(&mut r, 0);
        assert!(r.preemptions >= 1, "{}", r.preemptions);
        assert_eq!(done.len(), 2);
        // The older request never waits: 30 tokens in 30 steps.
        assert_eq!(done[0], (1, 300_000_000, 10_000_000));
        assert_eq!(r.used_blocks(), 0);
        assert_eq!(r.tokens_out, 60, "tokens emitted once each");
    }

    #[test]
    fn static_batches_wait_to_fill_then_run_to_the_longest() {
        let c = cfg("static", "step_time: 10ms\nmax_batch: 2\nmax_wait: 1s");
        let mut r = Replica::new(c.plan().unwrap());
        r.push(job(1, 10, 2));
        assert_eq!(r.plan(0), Plan::Wait(1_000_000_000));
        r.push(job(2, 10, 4));
        r.push(job(3, 10, 1));
        let (done, _) = drain(&mut r, 0);
        // Batch {1, 2} at 0: tokens at 10, 20 (1 done), 30, 40 (2 done);
        // request 3 waits for the batch to end, then its max_wait.
        assert_eq!(done[0], (1, 20_000_000, 10_000_000));
        assert_eq!(done[1], (2, 40_000_000, 10_000_000));
        assert_eq!(done[2].0, 3);
        assert_eq!(done[2].1, 1_010_000_000);
    }

    #[test]
    fn impossible_requests_are_refused() {
        // 4 blocks hold 64 tokens: a 65-token context fits (its last token
        // is never cached); 100 tokens do not, as vLLM refuses to start.
        let e = cfg("chunked", "kv_blocks: 4\nmax_model_len: 100")
            .plan()
            .unwrap_err();
        assert!(
            e.0 == "max_model_len" && e.1.contains("cannot fit"),
            "{e:?}"
        );
        let c = cfg("chunked", "kv_blocks: 4\nmax_model_len: 65");
        let mut r = Replica::new(c.plan().unwrap());
        assert!(!r.push(job(1, 65, 1)), "prompt at the context limit");
        assert!(r.push(job(1, 60, 30)), "output cut to the context");
        assert!(r.push(job(2, 34, 31)));
        let (done, _) = drain(&mut r, 0);
        assert_eq!(done.len(), 2);
        assert_eq!(r.tokens_out, 5 + 31);
        assert_eq!(r.used_blocks(), 0);
    }
}
