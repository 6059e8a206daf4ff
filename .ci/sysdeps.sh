#!/usr/bin/env bash
# System packages the suites need: Chromium (browser tests), PostgreSQL (the second database run), Redis (the cluster).
# Installed with apt-get when missing and running as root; otherwise the command is printed and
# .ci/suite.sh reports those suites as skipped.
set -u
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
fc-list :lang=zh 2>/dev/null | grep -q . || missing+=(fonts-wqy-microhei)  # Chinese glyphs in screenshots
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/redis-server ] || missing+=(redis-server)  # make run-cluster and its test
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "安装系统依赖：${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "缺少系统依赖，请运行：sudo apt-get install -y ${missing[*]}（相关测试将被跳过）"
fi
exit 0
