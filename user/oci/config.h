/* SPDX-License-Identifier: MIT */
/*
 * sbx-oci's own configuration: /etc/sbx/oci.toml ($SBX_OCI_CONFIG names
 * another file). Two keys, each on one line:
 *
 *   default_profile = "NAME"            the profile of a container without
 *                                       sbx annotations (else "none")
 *   allowed_profiles = ["A", "B", ...]  the profiles an annotation may
 *                                       choose; when set, org.sbx.profile
 *                                       must name one of them and
 *                                       org.sbx.policy is refused
 *
 * Comments (#) and blank lines aside, anything else is an error naming the
 * file and line. A missing file is no error: the defaults hold.
 */
#ifndef SBX_OCI_CONFIG_H
#define SBX_OCI_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define OCI_CONFIG_DEFAULT	"/etc/sbx/oci.toml"
#define OCI_CONFIG_MAX_ALLOWED	64
#define OCI_CONFIG_NAME_MAX	128

struct oci_config {
	char path[4096];			/* the file read (or that would be) */
	char default_profile[OCI_CONFIG_NAME_MAX];	/* "" when not set */
	bool has_allowed;			/* allowed_profiles given (maybe empty) */
	unsigned allowed_line;			/* its line, for messages */
	size_t n_allowed;
	char allowed[OCI_CONFIG_MAX_ALLOWED][OCI_CONFIG_NAME_MAX];
};

/* Reads the file named by $SBX_OCI_CONFIG, else OCI_CONFIG_DEFAULT. */
int oci_config_read(struct oci_config *c, char *why, size_t len);
/* Parses one file's text (path: for messages). */
int oci_config_parse(struct oci_config *c, const char *path, const char *text, char *why, size_t len);
/* Whether an annotation may choose the profile NAME. */
bool oci_config_allows(const struct oci_config *c, const char *name);

#endif /* SBX_OCI_CONFIG_H */
