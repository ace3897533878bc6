/* SPDX-License-Identifier: MIT */
/*
 * The mount table of this process (/proc/self/mountinfo, proc(5)), one
 * parser for every caller: cgroup2 discovery, the v1 hierarchies of hybrid
 * hosts, and the feature report.
 */
#ifndef SBX_MOUNTINFO_H
#define SBX_MOUNTINFO_H

/* One line, its fields pointing into the line (octal escapes such as
 * "\040" for a space already decoded). */
struct sbx_mount {
	int id;			/* mount id (statx's stx_mnt_id) */
	unsigned int major;	/* the superblock's device (its s_dev), */
	unsigned int minor;	/* not always stat's st_dev (btrfs) */
	const char *root;	/* the mounted subtree of the file system ("/" mostly) */
	const char *point;	/* where it is mounted */
	const char *fstype;	/* "cgroup2", "cgroup", "ext4", ... */
	const char *source;
	const char *super_opts;	/* per-superblock options: "rw,memory" for a v1 hierarchy */
};

/* Splits one mountinfo line in place. -EINVAL when it is not one. */
int sbx_mountinfo_parse(char *line, struct sbx_mount *ret);

/* Calls fn for each mount, in table order, until fn returns non-zero;
 * returns that value, 0 when fn never did, or -errno when the table cannot
 * be read. Lines that do not parse are skipped. */
int sbx_mountinfo_each(int (*fn)(const struct sbx_mount *m, void *arg), void *arg);

/* Between sbx_mountinfo_hold and its sbx_mountinfo_release, sbx_mountinfo_each
 * reads one copy of the table taken at the first hold: a step that looks
 * several things up in a row (the limits: a hierarchy per controller, seven
 * reads of the table per sandbox) reads it once. Holds nest; single-threaded
 * callers only. sbx_mountinfo_hold returns -errno when the table cannot be
 * read (nothing is held then). */
int sbx_mountinfo_hold(void);
void sbx_mountinfo_release(void);

#endif
