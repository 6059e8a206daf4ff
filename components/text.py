"""UI strings in one place (zh-CN)."""

APP_NAME = "河北省预算项目管理系统"
APP_SHORT = "预算项目管理"
LOGO = "/logo.svg"  # assets/logo.svg (assets/ is served at the root)
PRINT_CSS = "/print.css"  # assets/print.css: what a printed page keeps
DEMO_BANNER = "演示模式：当前为演示数据，演示账号使用 README 中公开的密码，默认管理员未强制修改密码。请勿用于生产。"
LOGOUT = "退出登录"
LOADING = "正在加载…"
LOGIN = "登录"
USERNAME = "用户名"
PASSWORD = "密码"
