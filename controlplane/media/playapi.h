/* playapi: mgw's player over the control socket, on any stream (sessions.list names them by
 * their local media address):
 *   media.play  {"stream":"ip:port","play":"tone:ringback"|"/path.wav","loops":1,"pt":0}
 *   media.dtmf  {"stream":"ip:port","digits":"123#","pt":101,"duration":100,"gap":60}
 *   media.stop  {"stream":"ip:port"}
 * Instead of "stream", "tag" (and "leg": "a" or "b") plays on every relay pair media.create
 * made with that tag. A play replaces what the stream played before; when it ends the stream
 * goes back to what it did (echo, relay). */
#ifndef MGW_PLAYAPI_H
#define MGW_PLAYAPI_H

#include "controlplane/ops/api.h"

void playapi_register(struct api *api);

#endif
