/* SPDX-License-Identifier: MIT */
#ifndef MEASURED_CMD_EVENTLOG_VERIFY_H
#define MEASURED_CMD_EVENTLOG_VERIFY_H

/*
 * `measured eventlog verify FILE...`: replay logs against the TPM's live
 * PCRs.  Called by cmd_eventlog() with argv[0] == "verify".
 */
int cmd_eventlog_verify(int argc, char **argv);

#endif
