/* hostnet: the host side of the embedded default data plane.
 *
 * mgwd gives the kernel side of its net_tap port an address so that local SIP phones and SIPp
 * can reach the media IP. Before touching anything it checks that the subnet clashes with no
 * existing interface address or route, since a clash could cut the host off its own network. */
#ifndef MGW_HOSTNET_H
#define MGW_HOSTNET_H

#include <netinet/in.h>
#include <stddef.h>

/**
 * Check that @addr/@prefix overlaps no IPv4 address configured on any interface other than
 * @own_iface, and no IPv4 route (other than routes through @own_iface).
 * Returns 0 when free, -1 on a clash with @err describing both sides, e.g.
 * "198.18.0.0/24 overlaps 198.18.0.7/16 on eth1".
 */
int hostnet_check_free(struct in_addr addr, unsigned prefix, const char *own_iface, char *err,
		       size_t err_len);

/**
 * Give interface @iface the address @addr/@prefix, bring it up, and disable IPv6 on it (the
 * data plane speaks IPv4 only; this keeps router solicitations off the port).
 * Returns 0 or -errno.
 */
int hostnet_configure(const char *iface, struct in_addr addr, unsigned prefix);

#endif
