//! A request's deadline: an `AbortController` aborted by a timer, cleared
//! when the exchange ends.
//!
//! Not `AbortSignal.timeout()`: Node makes that signal transferable, which
//! cost about 40 µs a request, a sixth of a FRUGAL step's own time.

use js_sys::{Function, Reflect};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{AbortController, AbortSignal, DomException};

/// The longest delay JS timers honour (about 24.8 days): longer ones fire at
/// once in Node and throw elsewhere.
const MAX_TIMER_MS: u64 = (1 << 31) - 1;

/// Armed on creation; disarmed on drop.
pub struct Deadline {
    controller: AbortController,
    timer: JsValue,
    // Kept alive while the timer may fire; the timer is cleared before it goes.
    _fire: Closure<dyn FnMut()>,
}

fn global_function(name: &str) -> Result<Function, JsValue> {
    Reflect::get(&js_sys::global(), &name.into())?.dyn_into::<Function>()
}

impl Deadline {
    /// Abort after `ms` milliseconds with a `TimeoutError`, as
    /// `AbortSignal.timeout` does.
    pub fn start(ms: u64) -> Result<Self, JsValue> {
        let controller = AbortController::new()?;
        let target = controller.clone();
        let fire = Closure::<dyn FnMut()>::new(move || {
            let reason = DomException::new_with_message_and_name(
                "The operation was aborted due to timeout",
                "TimeoutError",
            )
            .map_or(JsValue::UNDEFINED, JsValue::from);
            target.abort_with_reason(&reason);
        });
        let timer = global_function("setTimeout")?.call2(
            &JsValue::UNDEFINED,
            fire.as_ref(),
            &JsValue::from_f64(ms.min(MAX_TIMER_MS) as f64),
        )?;
        // Node: a pending deadline must not keep the process alive. Browsers
        // return a number, which has no `unref`.
        if timer.is_object() {
            if let Ok(unref) = Reflect::get(&timer, &"unref".into())?.dyn_into::<Function>() {
                unref.call0(&timer)?;
            }
        }
        Ok(Self {
            controller,
            timer,
            _fire: fire,
        })
    }

    pub fn signal(&self) -> AbortSignal {
        self.controller.signal()
    }

    /// Whether the deadline has fired (and aborted the exchange).
    pub fn expired(&self) -> bool {
        self.controller.signal().aborted()
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        if let Ok(clear) = global_function("clearTimeout") {
            let _ = clear.call1(&JsValue::UNDEFINED, &self.timer);
        }
    }
}
