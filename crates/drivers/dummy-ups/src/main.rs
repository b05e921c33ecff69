//! `dummy-ups`: the simulation; repeater runs continue in `dummy-ups-repeater`.

fn main() -> std::process::ExitCode {
    dummy_ups::run::<dummy_ups::RepeaterElsewhere>()
}
