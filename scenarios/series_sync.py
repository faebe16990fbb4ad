"""The kernel tree follows series/.

A stack of patches the harness applied, untouched since, is applied again
when series/ changes (a pull, or a cache left by an older checkout: CI once
built and tested a stale series that way). A developer's own commits and
uncommitted changes are built as they are, with a warning; with
LASTBOOT_FROM_SERIES=1 (make check, make demo, make bench) they are kept on a
branch and in the stash, and the series is applied. A patch that does not
apply is named, and the tree is left on its base. A tree made from another
source package than the pinned one is moved aside whole.

Runs the functions scripts/tree.sh uses on a small git repository."""

import glob
import os
import shutil
import subprocess

TITLE = "the kernel tree follows series/; a developer's own work is kept"
CASES = [("host", "tree")]
NEEDS_KERNEL = False

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "lib.sh")
GIT_ID = ["-c", "user.name=lastboot", "-c", "user.email=lastboot@localhost"]


def git(tree, *args):
    return subprocess.run(["git", *GIT_ID, "-C", tree, *args], check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout


def lib(t, func, *args, from_series=False):
    """A function of scripts/lib.sh as tree.sh calls it: (exit code, stderr)."""
    env = dict(os.environ, LASTBOOT_CACHE=os.path.join(t.workdir, "cache"),
               LASTBOOT_FROM_SERIES="1" if from_series else "0")
    p = subprocess.run(["bash", "-c", '. "$0"; "$@"', LIB, func, *args],
                       env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stderr


def sync(t, tree, patches, from_series=False):
    return lib(t, "sync_series", tree, *patches, from_series=from_series)


def content(tree, rev=None):
    if rev:
        return git(tree, "show", rev + ":a.c").split()
    with open(os.path.join(tree, "a.c")) as f:
        return f.read().split()


def commit_line(tree, line, msg):
    with open(os.path.join(tree, "a.c"), "a") as f:
        f.write(line + "\n")
    git(tree, "commit", "-q", "-a", "-m", msg)


def make_series(tree, lines, dest):
    """Commit each line on a scratch branch from the base; format-patch them."""
    git(tree, "checkout", "-q", "-b", "scratch", "lastboot-base")
    for line in lines:
        commit_line(tree, line, "a: add " + line)
    git(tree, "format-patch", "-q", "-o", dest, "lastboot-base..HEAD")
    git(tree, "checkout", "-q", "lastboot")
    git(tree, "branch", "-q", "-D", "scratch")
    return sorted(glob.glob(os.path.join(glob.escape(dest), "*.patch")))


def run(t):
    tree = os.path.join(t.workdir, "tree")
    shutil.rmtree(tree, ignore_errors=True)
    os.makedirs(tree)
    git(tree, "init", "-q", "-b", "lastboot")
    with open(os.path.join(tree, "a.c"), "w") as f:
        f.write("one\ntwo\nthree\n")
    git(tree, "add", "a.c")
    git(tree, "commit", "-q", "-m", "base")
    git(tree, "tag", "lastboot-base")
    base = git(tree, "rev-parse", "HEAD").strip()
    old = make_series(tree, ["four", "five"], os.path.join(t.workdir, "old"))
    new = make_series(tree, ["four", "FIVE"], os.path.join(t.workdir, "new"))
    base_only = ["one", "two", "three"]

    rc, err = sync(t, tree, old)
    t.require(rc == 0, "applying a series to a new tree failed: " + err)
    t.expect(content(tree) == base_only + ["four", "five"], "new tree: the series is not applied")

    rc, err = sync(t, tree, new)
    t.expect(rc == 0 and content(tree) == base_only + ["four", "FIVE"],
             "changed series on an untouched tree: not applied again (%s)" % err.strip())
    t.expect("WARNING" not in err, "changed series on an untouched tree: warned")
    t.note("changed series, untouched tree: applied again")

    commit_line(tree, "six", "a: a developer's commit")
    rc, err = sync(t, tree, new)
    t.expect(rc == 0 and content(tree)[-1] == "six", "a developer's commit was not built as it is")
    t.expect("differs from the series" in err, "a developer's commit went without a warning")
    t.note("developer's commit, default: built as it is, with a warning")

    rc, err = sync(t, tree, new, from_series=True)
    saved = git(tree, "branch", "--list", "lastboot-saved-*").split()
    t.expect(rc == 0 and content(tree) == base_only + ["four", "FIVE"],
             "LASTBOOT_FROM_SERIES=1: the series is not applied (%s)" % err.strip())
    t.expect(len(saved) == 1 and content(tree, saved[0])[-1] == "six",
             "LASTBOOT_FROM_SERIES=1: the developer's commit is not on a saved branch (%s)" % saved)
    t.note("developer's commit, LASTBOOT_FROM_SERIES=1: series applied, commit kept on %s" % saved)

    with open(os.path.join(tree, "a.c"), "a") as f:
        f.write("seven\n")
    rc, err = sync(t, tree, new, from_series=True)
    stash = git(tree, "stash", "list").splitlines()
    t.expect(rc == 0 and content(tree) == base_only + ["four", "FIVE"],
             "LASTBOOT_FROM_SERIES=1 on a dirty tree: the series is not what is left")
    t.expect(len(stash) == 1 and "+seven" in git(tree, "stash", "show", "-p"),
             "LASTBOOT_FROM_SERIES=1 on a dirty tree: the change is not in the stash (%s)" % stash)
    t.note("uncommitted change, LASTBOOT_FROM_SERIES=1: kept in the stash")

    # The second patch alone needs the first one's line as context.
    rc, err = sync(t, tree, new[1:])
    t.expect(rc != 0, "a patch that does not apply was accepted")
    t.expect(os.path.basename(new[1]) in err and "does not apply" in err,
             "the patch that does not apply is not named: " + err.strip())
    t.expect(git(tree, "rev-parse", "HEAD").strip() == base and not git(tree, "status", "--porcelain", "-uno"),
             "a series that does not apply left the tree off its base")
    t.note("patch that does not apply: " + err.strip().splitlines()[-1])

    rc, err = sync(t, tree, new)
    t.expect(rc == 0 and content(tree) == base_only + ["four", "FIVE"],
             "after a failed series, the good one is not applied again")

    # The pin moved on: the tree is moved aside whole, its stock worktree goes.
    stock = tree + "-stock"
    shutil.rmtree(stock, ignore_errors=True)
    git(tree, "worktree", "add", "-q", "--detach", stock, "lastboot-base")
    head = git(tree, "rev-parse", "HEAD").strip()
    rc, err = lib(t, "set_aside_tree", tree, stock, "linux-source-6.12_6.12.1-1_all.deb")
    moved = glob.glob(glob.escape(tree) + ".from-linux-source-6.12_6.12.1-1-*")
    t.expect(rc == 0 and not os.path.exists(tree) and not os.path.exists(stock),
             "a tree of another package is still in place (%s)" % err.strip())
    t.expect(len(moved) == 1 and git(moved[0], "rev-parse", "HEAD").strip() == head
             and len(git(moved[0], "worktree", "list").splitlines()) == 1,
             "the tree of another package was not kept whole, its worktrees pruned: %s" % moved)
    t.note("tree of another package: " + err.strip().splitlines()[1].replace("[lastboot] ", ""))
