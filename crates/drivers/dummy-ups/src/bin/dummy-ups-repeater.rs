//! `dummy-ups-repeater`: dummy-ups with repeater mode (and the simulation), started by
//! `dummy-ups` in place of itself when ups.conf asks for a repeater.

fn main() -> std::process::ExitCode {
    dummy_ups::run::<dummy_ups::Repeater>()
}
