# 中文消息目录（默认语言）。键与 en.ftl 一一对应；`code-*` 是错误码的标题，
# 其余是字段校验规则和接口自己给出的说明。占位符：{ $name }。

## 错误码标题

code-malformed-json = JSON 格式错误
code-bad-request = 请求有误
code-unauthorized = 需要登录
code-invalid-credentials = 邮箱或密码错误
code-invalid-token = 令牌无效或已过期
code-forbidden = 无权操作
code-organization-not-verified = 机构尚未通过认证
code-integrity-veto = 因科研诚信一票否决受限
code-not-found = 未找到
code-method-not-allowed = 不支持该请求方法
code-conflict = 冲突
code-email-taken = 邮箱已被注册
code-credit-code-taken = 统一社会信用代码已被注册
code-already-in-organization = 用户已属于某个机构
code-last-owner = 机构的最后一位负责人不能退出
code-invalid-state-transition = 当前状态不允许该操作
code-duplicate-connection = 已有进行中的对接请求
code-duplicate-bid = 该机构已有有效的揭榜申报
code-bidding-closed = 揭榜已截止
code-conflict-of-interest = 存在利益冲突
code-scores-incomplete = 尚有专家未完成全部评分
code-voucher-budget-exceeded = 创新券项目预算不足
code-enterprise-cap-exceeded = 超过单个企业的额度上限
code-applications-closed = 申请已截止
code-settlement-closed = 结算期已结束
code-voucher-not-active = 创新券不可用
code-idempotency-key-reused = 幂等键已用于另一个请求
code-duplicate-access-request = 该机构已有进行中的查阅申请
code-nda-version-mismatch = 所签保密协议不是当前版本
code-payload-too-large = 请求体过大
code-file-too-large = 文件超过该用途允许的大小
code-unsupported-media-type = 不支持的内容类型
code-validation-failed = 校验未通过
code-inventor-share-too-low = 完成人奖励比例低于法定下限
code-unsupported-file-type = 该用途不允许此类文件
code-missing-attachments = 缺少必需的附件
code-rate-limited = 请求过于频繁
code-internal = 服务器内部错误
code-service-unavailable = 服务暂不可用

## 字段校验规则

required = 缺少必填字段
empty = 不能为空
too-long = 最多 { $max } 个字符
too-short = 至少 { $min } 个字符
too-many = 最多 { $max } 项
too-few = 至少 { $min } 项
choice = 取值无效：应为 { $allowed } 之一
type = 类型错误：应为{ $expected }
datetime = 不是有效的日期或时间（示例：2026-12-31 或 2026-12-31T09:00:00+08:00）
date = 不是有效的日期（示例：2026-12-31）
id = 不是有效的 ID（UUID）
invalid = 取值无效
nul = 不能包含 NUL 字符
fen-range = 必须是 -{ $max } 到 { $max } 之间的整数（单位：分）
positive = 必须大于 0
non-negative = 不能为负数
between = 必须在 { $min } 到 { $max } 之间
at-most = 不能大于 { $max }
at-least = 不能小于 { $min }
email = 不是有效的邮箱地址
future = 必须晚于当前时间
region = 应为省级行政区名称，如 江苏省
sum = 各项之和必须等于 { $total }
fields = { $count } 个字段有误：{ $fields }

## 接口给出的说明

not-found = { $what }不存在
transition = { $entity }当前状态为「{ $from }」，不能执行「{ $action }」
malformed-json = JSON 格式错误（第 { $line } 行第 { $column } 列）
json-content-type = 请求体须为 JSON（Content-Type: application/json）
body-too-large = 请求体超过 { $limit } 字节
no-route = 没有这个接口：{ $method } { $path }
method-not-allowed = { $path } 不支持 { $method } 请求
unexpected = 服务器内部错误，请稍后重试
unavailable = 服务暂时不可用，请稍后重试
collided = 请求与其他操作冲突次数过多，请稍后重试
idempotent-replay = 使用相同幂等键的另一个请求已处理
inventor-share = { $kind }收入中奖励完成人的比例不得低于 { $min } 个基点（《促进科技成果转化法》第四十五条）
missing-attachment = 缺少附件：{ $purpose }
file-type = 用途 { $purpose } 只接受 { $allowed }，该文件内容为 { $found }
file-content = 文件内容为 { $found }
login-required = 请先登录：在请求头中携带 Authorization: Bearer <访问令牌>
token-invalid = 访问令牌缺失、无效或已过期
admins-only = 仅限平台管理员

## 类型名称

word-integer = 整数
word-non-negative-integer = 非负整数
word-number = 数字
word-string = 字符串
word-boolean = 布尔值（true 或 false）
word-array = 数组
word-object = 对象
word-null = null

## 名词

noun-resource = 资源
noun-achievement = 科技成果
noun-demand = 技术需求
noun-listing = 成果或需求
noun-challenge = 揭榜挂帅榜单
noun-bid = 揭榜申报
noun-user = 用户
noun-invitation = 邀请
noun-contract = 技术合同
noun-connection = 对接请求
noun-access-request = 查阅申请
noun-voucher = 创新券
noun-voucher-program = 创新券项目
noun-application = 申请
noun-redemption = 兑付申请
noun-integrity-record = 科研诚信记录
noun-file = 文件
noun-organization = 机构
noun-milestone = 里程碑
noun-member = 成员
noun-subscription = 订阅
noun-notification = 通知
noun-message = 消息

## 状态与操作

word-draft = 草稿
word-submitted = 已提交
word-pending = 待处理
word-published = 已发布
word-rejected = 已驳回
word-withdrawn = 已撤回
word-archived = 已归档
word-closed = 已关闭
word-requested = 已申请
word-accepted = 已接受
word-declined = 已拒绝
word-revoked = 已撤销
word-expired = 已过期
word-active = 有效
word-approved = 已批准
word-signed = 已签订
word-registered = 已登记
word-completed = 已完成
word-cancelled = 已取消
word-lifted = 已解除
word-submit = 提交
word-approve = 批准
word-reject = 驳回
word-withdraw = 撤回
word-archive = 归档
word-publish = 发布
word-accept = 接受
word-decline = 拒绝
word-revoke = 撤销
word-cancel = 取消
word-sign = 签订
word-register = 登记
word-lift = 解除
