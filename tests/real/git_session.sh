#!/bin/sh
# A deterministic git session in directory $1: prints only what is the
# same on every run (fixed identities, dates and branch name).
set -eu
dir=$1
mkdir -p "$dir/home" "$dir/repo"
export HOME="$dir/home" GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
export LC_ALL=C TZ=UTC GIT_PAGER=cat PAGER=cat
export GIT_AUTHOR_NAME="Test Author" GIT_AUTHOR_EMAIL=author@example.org
export GIT_COMMITTER_NAME="Test Committer" GIT_COMMITTER_EMAIL=committer@example.org
cd "$dir/repo"
git init -q -b main .
git config core.autocrlf false
git config gc.auto 0

commit() {
    export GIT_AUTHOR_DATE="$1 +0000" GIT_COMMITTER_DATE="$1 +0000"
    git commit -q -m "$2"
}

i=0
while [ $i -lt 200 ]; do
    mkdir -p "d$((i % 10))"
    seq $i $((i + 50)) >"d$((i % 10))/file$i.txt"
    i=$((i + 1))
done
git add -A
commit "2020-01-01T10:00:00" "initial import of 200 files"

git checkout -q -b topic
i=0
while [ $i -lt 200 ]; do
    echo "change $i" >>"d$((i % 10))/file$i.txt"
    i=$((i + 7))
done
git rm -q d3/file3.txt
commit "2020-01-02T11:00:00" "topic: edit every 7th file"

git checkout -q main
echo "main side" >main.txt
git add main.txt
commit "2020-01-03T12:00:00" "main: add main.txt"
export GIT_AUTHOR_DATE="2020-01-04T13:00:00 +0000" GIT_COMMITTER_DATE="2020-01-04T13:00:00 +0000"
git merge -q --no-ff -m "merge topic" topic

git log --graph --stat --format='%H %an <%ae> %ad%n  %s' --date=iso
git show --format='%T %P' --name-status HEAD~1
git diff --stat HEAD~2 HEAD
git rev-list --count --all
git ls-files | wc -l
git cat-file -p HEAD
git gc -q --aggressive
git count-objects -v | grep -E '^(count|in-pack|packs):'
git fsck --no-progress && echo fsck ok
git log --format=%H | head -n 1
