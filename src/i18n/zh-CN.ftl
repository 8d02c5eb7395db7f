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
code-slot-taken = 该时段已被预约
code-booking-suspended = 因多次爽约暂停预约资格
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

## 各业务领域的说明

# 通用
exactly-one = { $first } 和 { $second } 须填写且只能填写一个
verified-organization = 须为已认证的机构
keyword-too-long = 每个关键词最多 { $max } 个字符
not-before = 不能早于 { $other }
idempotency-key-format = 须为 1 到 255 个可见 ASCII 字符
idempotency-key-different = 该 Idempotency-Key 已用于另一个不同的请求
body-unreadable = 无法读取请求体：{ $error }

# 账号
wrong-password = 邮箱或密码错误
login-locked = 该账号登录失败次数过多，已暂时锁定，请稍后再试
address-rate-limited = 来自该网络地址的请求过多，请稍后再试
refresh-token-invalid = 刷新令牌无效或已过期
refresh-token-reused = 该刷新令牌已被使用过，所在会话的全部令牌均已撤销，请重新登录
link-token-invalid = 链接无效、已过期或已被使用
account-gone = 账号不存在或已被停用
password-checks-busy = 当前登录验证过多，请稍后重试
email-registered = 该邮箱已被注册
last-admin = 平台至少须保留一名管理员
mine-needs-token = 查询本机构的内容（mine=true）须先登录
demo-not-empty = 演示数据只能写入空数据库，当前数据库已有用户

# 机构
no-organization = 你尚未加入任何机构
join-verified-organization = 你尚未加入任何机构，请先创建或加入一个已认证的机构
organization-status = 你所在机构的状态为「{ $status }」，只有已认证的机构可以执行此操作
already-member = 你已属于某个机构
leave-organization-first = 你已属于某个机构，请先退出该机构
owners-only = 只有机构负责人可以执行此操作
invitation-decided = 邀请当前为「{ $from }」，不能变为「{ $to }」
admin-cannot-join = 平台管理员账号不能加入机构
verify-email-first = 请先验证邮箱，再接受邀请
last-owner-leaves = 机构的最后一位负责人不能退出，请先将其他成员设为负责人
credit-code-registered = 已有机构使用该统一社会信用代码
scale-enterprises-only = 只有企业填写企业规模
categories-providers-only = 只有服务机构填写服务类别
credit-code-length = 须为 18 位
credit-code-chars = 含有 GB 32100 规定以外的字符（允许 0-9 及除 I、O、S、V、Z 以外的 A-Y）
credit-code-region = 第 3-8 位须为行政区划代码
credit-code-check = 校验码不符（GB 32100）

# 科技成果与技术需求
achievement-posters = 只有高等院校和科研院所的成员可以发布科技成果
demand-posters = 只有企业和政府部门的成员可以发布技术需求
listing-owner-only = 只有所属机构可以修改该{ $what }
transfer-modes-required = 至少选择一种转化方式
patent-shape = { $number }：格式应为 CN202310123456.6（申请号、小数点、校验位）
patent-digits = { $number }：校验位前须为 12 位数字（2004 年以前的申请为 8 位）
patent-type = { $number }：第 5 位须为专利类型（1、2、3、8 或 9）
patent-check = { $number }：校验位不符

# 匹配
matches-owner-only = 只有所属机构和管理员可以查看匹配结果

# 对接请求
own-listing-connection = 不能对本机构发布的成果或需求发起对接请求
listing-not-published = 该{ $what }尚未发布
live-connection = 本机构对该成果或需求已有进行中的对接请求
connection-answerer = 只有成果或需求的所属机构可以答复对接请求
thread-writers = 只有对接双方机构可以在此留言

# 揭榜挂帅
indicators-required = 至少填写一项目标指标
indicator-incomplete = 每项指标都须填写名称和目标值
eligible-kinds-required = 至少选择一类可揭榜的机构
milestone-titles = 每个里程碑都须填写标题
team-required = 至少填写一名团队成员
team-names = 每名团队成员都须填写姓名
expert-count = 须指派 { $min } 到 { $max } 名专家
challenge-issuers = 只有企业和政府部门可以发布揭榜挂帅榜单
directed-needs-org = 定向委托须指明受托机构
directed-self = 不能委托本机构
directed-only = 只有定向委托才指定受托机构
issuer-only = 只有发榜机构可以执行此操作
issuer-cannot-bid = 发榜机构不能揭本机构的榜
challenge-bidding-closed = 该榜单已截止揭榜
kind-not-eligible = { $kind }不在该榜单的揭榜范围内
consortium-size = 联合体最多包含四家合作单位
partner-twice = 合作单位重复
lead-not-partner = 揭榜机构是牵头单位，不能同时作为合作单位
issuer-not-partner = 发榜机构不能作为合作单位
partner-not-verified = { $id } 不是已认证的机构
partner-vetoed = { $id } 受科研诚信一票否决限制
live-bid = 本机构对该榜单已有有效的揭榜申报
withdraw-before-deadline = 揭榜申报只能在截止前撤回
bids-after-deadline = 发榜机构须在揭榜截止后查看申报
not-expert = { $id } 不是专家用户
expert-vetoed = 专家 { $id } 受科研诚信一票否决限制
expert-conflicted = 专家 { $id } 属于发榜机构或揭榜机构
assigned-experts-score = 只有指派给该榜单的专家可以评分
ranking-readers = 评审排名仅向发榜机构、指派专家和管理员开放
feedback-after-award = 确定中榜后才提供评审反馈
not-submitted-bid = { $id } 不是该榜单已提交的揭榜申报
winner-delivers = 只有中榜团队可以交付其里程碑
milestone-not-delivered = 该申报的这一里程碑当前为「{ $status }」，尚未交付
reward-exceeded = 这笔付款将超出榜单的奖励金额
milestone-paid = 该申报的这一里程碑已付款
horse-race-only = 只有赛马制榜单可以淘汰中榜团队
last-winner = 赛马中至少须保留一个中榜团队
challenge-cancellers = 只有发榜机构或管理员可以取消榜单
bid-twice = 揭榜申报重复
horse-race-awards = 赛马制榜单须确定 2 到 { $max } 个中榜申报
one-award = 须确定且只能确定一个中榜申报
milestones-required = 至少设置一个里程碑
payments-negative = 里程碑付款不能为负数
milestones-sum = 各里程碑付款之和须等于奖励金额 reward_fen
single-winner = 单一揭榜和定向委托的 max_winners 须为 1
horse-race-winners = 赛马制榜单须有 2 到 5 个中榜名额
scores-missing = 尚缺 { $count } 份专家评分

# 创新券
service-categories-required = 至少选择一个服务类别
scales-required = 至少选择一种企业规模
vouchers-for-enterprises = 创新券仅面向企业
program-scales = 该创新券项目仅面向以下规模的企业：{ $scales }
program-category = 该创新券项目不支持该服务类别
per-enterprise-cap = 不能超过单个企业 { $cap } 分的额度上限
requested-amount = 不能超过申请金额 { $requested } 分
program-remaining = 该项目剩余预算 { $left } 分
enterprise-holds = 该企业已持有 { $held } 分，额度上限为 { $cap } 分
providers-redeem = 只有登记在册的服务机构可以兑付创新券
service-not-offered = 本机构不提供该创新券对应的服务：{ $service }
fee-too-small = 服务费过低，创新券无法抵扣
voucher-busy = 该创新券正在处理其他兑付，请重试
holder-confirms = 只有持券企业可以确认服务
voucher-changed = 该创新券刚刚发生变化，请重试
application-window = 申请受理时间为 { $open } 至 { $close }（北京时间），今天是 { $today }
settlement-ended = 结算期已于 { $date } 结束
voucher-status = 该创新券当前为「{ $status }」

# 技术合同
instalments-required = 至少设置一期付款
instalments-positive = 每期付款金额都须大于 0
instalments-sum = 各期付款之和须等于合同金额 amount_fen
beneficiaries-required = 至少填写一名受益人
beneficiary-names = 每名受益人都须填写姓名
shares-positive = 每人的分配比例都须大于 0
shares-sum = 分配比例之和须为 10000 个基点
contract-parties-only = 只有技术合同的当事方可以执行此操作
seller-achievement = 须为卖方的科技成果
buyer-demand = 须为买方的技术需求
parties-connection = 须为双方之间已接受的对接请求
buyer-challenge = 须为买方发布、卖方中榜的揭榜挂帅榜单
draft-as-party = 只能起草本机构为当事方的技术合同
distinct-parties = 卖方和买方不能是同一机构
other-party-vetoed = 合同另一方受科研诚信一票否决限制
already-signed = 本机构已签署该技术合同
registered-amount = 不能超过合同金额
seller-records-payments = 由卖方登记其收到的款项
overpaid = 合同将被超额支付：合同金额 { $amount } 分，已付 { $paid } 分
stages-forward = 转化阶段只能向前推进
seller-distributes = 由卖方登记其收入分配
distribution-institutions = 收入分配仅适用于高等院校和科研院所

# 文件
file-limit = 该用途的文件最大 { $limit } 字节
multipart-required = 请以 multipart/form-data 上传，先 `purpose` 后 `file`
multipart-unreadable = 无法读取上传内容：{ $error }
purpose-part = 缺少 `purpose` 部分
purpose-first = `purpose` 部分须在 `file` 之前
unknown-purpose = 未知的文件用途
file-part = 缺少 `file` 部分
file-after-purpose = `purpose` 之后应为 `file` 部分
range-unsatisfiable = 文件大小为 { $size } 字节
confidential-achievements-only = 只有科技成果可以附带保密内容
file-not-yours = 找不到你上传的这个文件
uploaded-as = 该文件上传时的用途为 { $purpose }
file-deleted = 有文件在此期间被删除，请重新上传

# 科研诚信
integrity-vetoed = 你或你所在机构受科研诚信一票否决限制，不能执行此操作

# 保密内容查阅申请
owner-reads-detail = 所属机构本就可以查看自己的保密内容
no-confidential-detail = 该科技成果没有保密内容
live-access-request = 本机构对该科技成果已有进行中的查阅申请
access-listers = 只有所属机构可以查看查阅申请
access-requester-only = 只有申请机构可以签署该申请的保密协议
access-owner-only = 只有成果所属机构可以{ $action }该查阅申请
nda-mismatch = 所签保密协议与提供的文本不一致，请重新读取申请并按其 nda_sha256 签署

# 共享仪器
instrument-listers = 只有已认证服务机构的成员可以发布共享仪器
instrument-fee = 请至少填写按小时或按样品的收费标准之一
instrument-owner-only = 只有仪器所属机构可以{ $action }该预约
instrument-inactive = 该仪器已停止开放预约
own-instrument = 本机构的仪器无需预约
booking-in-future = 预约开始时间须晚于当前时间
booking-ends-after-start = 结束时间须晚于开始时间
booking-too-long = 单次预约不能超过 { $hours } 小时
booking-too-far = 最多只能预约 { $days } 天以内的时段
booking-timing = 该预约当前时间不能{ $action }：开始前才能取消，开始后才能确认完成或记为爽约
booking-fee-basis = 该仪器不按此方式收费：按样品收费请填写 samples，按小时收费请不填
booking-rights-suspended = 本机构近 { $days } 天内爽约 { $count } 次，暂停预约资格
booking-parties = 只有预约机构或仪器所属机构可以取消预约
slot-overlap = 该时段已被预约（{ $from } 至 { $to }）
voucher-holder-books = 创新券属于其他机构，只能由持券企业使用
voucher-for-instruments = 该创新券用于{ $service }，不能支付仪器共享费用
invoice-for-voucher = 使用创新券的预约完成时须填写发票号
usage-period = 统计期间不能超过 { $days } 天
year-range = 年份须在 { $min } 至 { $max } 之间
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
noun-instrument = 共享仪器
noun-booking = 仪器预约

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

## 状态、操作与类别（补充）
word-pending-review = 待审核
word-open = 揭榜中
word-bidding-closed = 揭榜已截止
word-under-review = 评审中
word-publicizing = 公示中
word-in-progress = 实施中
word-awarded = 已中榜
word-not-selected = 未入选
word-eliminated = 已淘汰
word-delivered = 已交付
word-contracted = 已签约
word-performing = 履行中
word-terminated = 已终止
word-transferred = 已转化
word-verified = 已认证
word-suspended = 已暂停
word-exhausted = 已用完
word-edit = 编辑
word-score = 评分
word-award = 确定中榜
word-eliminate = 淘汰
word-deliver = 交付
word-accept-milestone = 验收里程碑
word-reject-milestone = 退回里程碑
word-record-payment = 登记收款
word-report-commercialization = 报告转化进展
word-request-access = 申请查阅
word-grant = 批准
word-enterprise = 企业
word-university = 高等院校
word-institute = 科研院所
word-service-provider = 服务机构
word-government = 政府部门
word-large = 大型
word-medium = 中型
word-small = 小型
word-micro = 微型
word-inspection-testing = 检验检测
word-rd-design = 研发设计
word-technology-consulting = 技术咨询
word-technology-transfer = 技术转移
word-pilot-production = 中试熟化
word-ip-services = 知识产权服务
word-instrument-sharing = 大型仪器共享

## 技术经理人（brokers）

broker-service-provider = 只有已认证服务机构的成员可以登记技术经理人档案
broker-fields-required = 至少选择一个擅长领域
broker-unknown = 找不到该技术经理人，或其档案已失效
broker-profile-busy = 另一个请求正在保存你的技术经理人档案，请重试
broker-inviters = 只有对接双方机构的成员可以邀请技术经理人
broker-is-party = 技术经理人不能是对接任一方机构的成员
commission-one-of = commission_fen 与 commission_bp 至多给出其一
commission-within-amount = 佣金不能超过合同金额
commission-needs-broker = 只有经技术经理人促成的合同（关联已邀请技术经理人的对接）才能约定佣金
commission-exceeds-income = 净收入不足以支付技术经理人佣金 { $commission } 分
noun-broker = 技术经理人
word-invite-broker = 邀请技术经理人
word-no-show = 爽约
word-complete = 确认完成
word-inactive = 已停止开放
## 技术合同认定登记（registration）
seller-files-registration = 只有卖方（技术输出方）机构的成员可以申请认定登记或补正材料
registration-open = 该合同已有进行中或已通过的认定登记申请
registrars-only = 只有该地区的技术合同登记机构或管理员可以办理认定登记
registration-number = 登记编号格式应为 年份-序号，如 2026-000123（序号至少 6 位，年份不晚于今年）
registration-number-taken = 该登记编号已被使用
registration-amend-nothing = 请至少修改 registered_amount_fen 或 registration_no 之一
verified-government = 应为已认证的政府部门机构
office-exists = 该机构已是该地区的登记机构
noun-registration = 认定登记
word-filed = 已申请
word-supplement-requested = 待补正
word-refused = 未予登记
word-file-registration = 申请认定登记
word-request-supplement = 要求补正
word-supplement = 补正材料
word-refuse = 不予登记
word-amend = 变更登记
word-cancel-registration = 撤销登记


## Listing freshness and insights
insights-owner-only = 只有所属机构和管理员可以查看该信息的洞察数据
word-expire = 到期下架
word-extend = 延期
word-confirm = 确认

## Settlement batches (结算批次)
code-nothing-to-settle = 截至结算日没有可兑付的申请
cut-off-future = 不能晚于今天（{ $today }）
cut-off-period = 须在本计划的结算期内：{ $from } 至 { $to }
nothing-to-settle = 截至 { $date } 没有已确认且尚未兑付的兑付申请
