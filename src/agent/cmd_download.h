/* `coce download-trades`: Binance aggregate trades around each pump event,
 * one file per event in the export format (data_ingest/trades.h), resumable
 * and idempotent (files already complete are skipped). See
 * docs/data_sources.md. */
#ifndef COCE_AGENT_CMD_DOWNLOAD_H
#define COCE_AGENT_CMD_DOWNLOAD_H

/* coce download-trades --events FILE --out DIR [--exchange binance]
 *     [--before 12d] [--after 7d] [--quote BTC] [--base-url URL]
 *     [--cache-dir DIR] [--retries N] [--timeout-ms N] [--backoff-ms N]
 *     [--page-limit N] [--dedupe-minutes 10] [--config FILE]
 * argv[0] is "download-trades". Returns 0 (all files complete), 1 (some
 * download failed; the others are kept and the failed ones resume next
 * time), 2 (usage or configuration), 3 (bad event list). */
int coce_cmd_download_trades(int argc, char **argv);

#endif
