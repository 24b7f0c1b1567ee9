/* `coce reset-kill-switch --reason TEXT [--data DIR] [--config FILE]`:
 * an operator clears a kill-switch halt recorded in DIR/state.json.
 *
 * Takes the data-directory lock (so a running engine is never changed
 * under its feet), loads the snapshot, and when it is halted resumes it
 * (coce_book_resume: the halt's figures stay for the record), saves it
 * atomically and appends one line to <run.logs_dir>/meta_events.jsonl:
 *   {"ts": <ms since epoch>, "event": "kill_switch_reset", "reason": TEXT,
 *    "previous": {"reason", "time_ms", "sharpe_7d", "hit_rate_7d",
 *                 "drawdown"}}
 * (a non-finite figure is null). When not halted it says so and writes
 * nothing.
 *
 * Exit codes: 0 reset done or nothing to do; 1 runtime error (I/O; also when
 * the state was reset but the event line could not be appended, said so);
 * 2 usage or configuration (no --reason); 3 missing or corrupt state.json;
 * 5 data directory locked by a running engine (as `coce --mode`). */
#ifndef COCE_AGENT_CMD_KILLSWITCH_H
#define COCE_AGENT_CMD_KILLSWITCH_H

/* argv[0] = "reset-kill-switch". */
int coce_cmd_reset_kill_switch(int argc, char **argv);

#endif
