/* api: the control socket. A UNIX stream socket speaking one JSON object per line each way:
 *   request  {"cmd":"status"}            (further members are the command's arguments)
 *   reply    {"ok":true,"result":...}    or {"ok":false,"error":"..."}
 * Commands are registered by the modules that own the data they report. The api has its own
 * epoll set; the control loop adds api_fd() to its epoll and calls api_poll() when it is
 * readable. Clients are non-blocking; a slow client never stalls the control plane (its
 * replies are buffered up to a bound, then it is disconnected). */
#ifndef MGW_API_H
#define MGW_API_H

#include <stddef.h>

#include <jansson.h>

struct api;

/** A command handler returns its result (any JSON value, a new reference), or NULL after
 *  writing a human-readable message into @err. @req is the whole request object. */
typedef json_t *(*api_handler_fn)(json_t *req, char *err, size_t err_len, void *ctx);

/** Bind and listen on @path (an existing socket file is replaced; its directory is created).
 *  Returns NULL with a message in @err on failure. */
struct api *api_create(const char *path, char *err, size_t err_len);
/** Close every client, the socket, and remove the socket file. */
void api_destroy(struct api *api);
int api_register(struct api *api, const char *cmd, api_handler_fn fn, void *ctx);
/** The fd to watch for EPOLLIN in the caller's epoll set. */
int api_fd(const struct api *api);
/** Accept clients, read requests, run handlers, write replies; never blocks. */
void api_poll(struct api *api);
/** Number of connected clients (for status). */
unsigned api_clients(const struct api *api);

#endif
