//! Spawns the built binary, as assert_cmd does: its run is attributed to this
//! test through the inherited `COVWRAP_LABEL`.

use std::process::Command;

#[test]
fn cli_prints_the_sum() {
    let out = Command::new(env!("CARGO_BIN_EXE_attribution"))
        .arg("4,5")
        .output()
        .expect("run attribution");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "4 + 5 = 9\n");
}
