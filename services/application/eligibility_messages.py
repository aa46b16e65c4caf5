"""Messages of eligibility (条件自检), calls, promotion requests and grading imports, in Chinese and English.

For a condition, the title is the reason and the detail is what to do next.
"""

from services.common.errors import Message, register_messages

register_messages({
    "application.not_eligible": Message(
        "不满足申报条件", "Not eligible to apply",
        "请按 conditions 中未通过的条件逐项处理后再申报。",
        "Resolve each condition that did not pass (see conditions) and apply again."),
    "application.call_expired": Message(
        "通知的截止时间已过，不能发布", "The call's closing time has passed, so it cannot be published",
        "通知《{title}》的截止时间为 {closes_at}，请新建一个受理时间在将来的通知。",
        "The call \"{title}\" closed at {closes_at}; create a call whose window lies in the future."),

    # 1. The call is open.
    "eligibility.call_open.passed": Message(
        "通知《{title}》正在受理（北京时间 {opens_at} 至 {closes_at}）",
        "The call \"{title}\" is open ({opens_at} to {closes_at}, Beijing time)"),
    "eligibility.call_open.resubmission": Message(
        "被退回的申报可在修改后重新提交，不受通知受理时间限制",
        "A returned application may be resubmitted after the call's window"),
    "eligibility.call_open.not_yet_open": Message(
        "通知《{title}》尚未开始受理（北京时间 {opens_at} 至 {closes_at}）",
        "The call \"{title}\" is not open yet ({opens_at} to {closes_at}, Beijing time)",
        "请在 {opens_at} 之后申报。", "Apply from {opens_at} on."),
    "eligibility.call_open.ended": Message(
        "通知《{title}》已截止（北京时间 {opens_at} 至 {closes_at}）",
        "The call \"{title}\" has ended ({opens_at} to {closes_at}, Beijing time)",
        "请关注下一次申报通知，或选择其他正在受理的通知。",
        "Watch for the next call, or choose another open call."),
    "eligibility.call_open.closed": Message(
        "通知《{title}》已关闭，不再受理申报", "The call \"{title}\" was closed and accepts no applications",
        "请选择其他正在受理的通知。", "Choose another open call."),

    # 2. The person is bound to a recommending unit.
    "eligibility.unit_bound.passed": Message(
        "已绑定推荐单位：{unit_name}", "Bound to the recommending unit {unit_name}"),
    "eligibility.unit_bound": Message(
        "尚未绑定推荐单位", "Not bound to a recommending unit",
        "请在“个人与单位绑定关系”中输入推荐单位的统一社会信用代码申请绑定，并等待单位审核通过。",
        "Request a binding with your unit's unified social credit code and wait for the unit to approve it."),
    "eligibility.unit_bound.pending": Message(
        "绑定推荐单位“{unit_name}”的申请尚待单位审核", "Your request to bind {unit_name} awaits the unit's review",
        "请联系该单位的审核人审核您的绑定申请；审核通过后即可申报。",
        "Ask the unit's reviewer to decide your request; you can apply once it is approved."),
    "eligibility.unit_bound.other_unit": Message(
        "本申报的推荐单位为“{unit_name}”，您当前绑定的是“{bound_name}”",
        "This application is recommended by {unit_name}, but you are bound to {bound_name}",
        "被退回的申报只能经原推荐单位重新提交，请重新绑定“{unit_name}”后再提交。",
        "A returned application goes back through its own unit; bind {unit_name} again, then resubmit."),

    # 3. The unit completed its 人才分类定级报送信息.
    "eligibility.unit_profile_complete.passed": Message(
        "推荐单位“{unit_name}”已完善人才分类定级报送信息",
        "The unit {unit_name} has completed its talent grading report information"),
    "eligibility.unit_profile_complete": Message(
        "推荐单位“{unit_name}”尚未完善“人才分类定级报送信息”",
        "The unit {unit_name} has not completed its talent grading report information",
        "请联系单位负责人才工作的同志，在单位网厅＞大人才一体化系统＞工作台中完善报送信息。",
        "Ask your unit's talent officer to complete the report information on the unit portal."),
    "eligibility.unit_profile_complete.unbound": Message(
        "尚未绑定推荐单位，无法确认单位报送信息",
        "No recommending unit is bound, so its report information is unknown",
        "请先绑定推荐单位，并等待单位审核通过。", "Bind a recommending unit first and wait for its approval."),

    # 4. Not graded in the last three years, or promotion request approved.
    "eligibility.not_recently_graded.passed": Message(
        "近三年内无人才分类定级认定记录", "Not graded in the last three years"),
    "eligibility.not_recently_graded.promotion_approved": Message(
        "您于 {graded_on} 认定为 {talent_class} 类人才，晋级申报申请已审核通过",
        "You were graded class {talent_class} on {graded_on}, and your promotion request was approved"),
    "eligibility.not_recently_graded": Message(
        "您于 {graded_on} 认定为 {talent_class} 类人才，三年内不能再次申报",
        "You were graded class {talent_class} on {graded_on}; three years must pass before applying again",
        "如需晋级，请提交晋级申报申请，经推荐单位报送、业务部门审核通过后再申报；否则请于 {allowed_from} 起申报。",
        "To apply for promotion, file a promotion request; once your unit forwards it and the department "
        "approves it, you may apply. Otherwise apply from {allowed_from} on."),
    "eligibility.not_recently_graded.promotion_pending_unit": Message(
        "您于 {graded_on} 认定为 {talent_class} 类人才，晋级申报申请尚待推荐单位审核",
        "You were graded class {talent_class} on {graded_on}; your promotion request awaits your unit",
        "请联系推荐单位审核并报送您的晋级申报申请。", "Ask your unit to review and forward your promotion request."),
    "eligibility.not_recently_graded.promotion_pending_department": Message(
        "您于 {graded_on} 认定为 {talent_class} 类人才，晋级申报申请尚待业务部门审核",
        "You were graded class {talent_class} on {graded_on}; your promotion request awaits the department",
        "请等待业务部门审核晋级申报申请，审核通过后即可申报。",
        "Wait for the department to decide your promotion request; you can apply once it is approved."),
    "eligibility.not_recently_graded.promotion_rejected": Message(
        "您于 {graded_on} 认定为 {talent_class} 类人才，晋级申报申请未通过审核（意见：{opinion}）",
        "You were graded class {talent_class} on {graded_on}; your promotion request was rejected "
        "(opinion: {opinion})",
        "请按审核意见重新提交晋级申报申请，或于 {allowed_from} 起申报。",
        "File a new promotion request that answers the opinion, or apply from {allowed_from} on."),

    # Promotion requests (晋级申报申请)
    "promotion.not_found": Message(
        "晋级申报申请不存在", "Promotion request not found",
        "未找到该晋级申报申请，请刷新列表后重试。", "No such promotion request; refresh the list and try again."),
    "promotion.not_needed": Message(
        "无需提交晋级申报申请", "No promotion request is needed",
        "您近三年内没有人才分类定级认定记录，可直接申报。",
        "You were not graded in the last three years, so you may apply directly."),
    "promotion.already_approved": Message(
        "晋级申报申请已审核通过", "Your promotion request is already approved",
        "您关于 {graded_on} 认定的晋级申报申请已审核通过，可直接申报。",
        "Your promotion request about the grading of {graded_on} is approved; you may apply."),
    "promotion.open_exists": Message(
        "您有尚在审核中的晋级申报申请", "You have a promotion request under review",
        "同一时间只能有一个审核中的晋级申报申请，请等待其审核结束。",
        "One promotion request at a time may be under review; wait until it is decided."),
    "promotion.unit_required": Message(
        "尚未绑定推荐单位", "Not bound to a recommending unit",
        "晋级申报申请需经推荐单位报送，请先绑定推荐单位并等待单位审核通过。",
        "A promotion request goes through your recommending unit; bind one and wait for its approval first."),
    "promotion.target_lower": Message(
        "申请类别低于已认定类别", "The class asked for is lower than your current class",
        "您已认定为 {current_class} 类，晋级申报只能申请同类或更高类别，不能申请 {talent_class} 类。",
        "You are graded class {current_class}; a promotion asks for the same or a higher class, "
        "not class {talent_class}."),
    "promotion.target_unchanged": Message(
        "申请类别和层次与已认定的相同", "The class and level asked for equal your current grading",
        "您已认定为 {talent_class} 类第 {level} 层次，请申请其他层次或更高类别。",
        "You are graded class {talent_class}, level {level}; ask for another level or a higher class."),
    "promotion.wrong_status": Message(
        "晋级申报申请的状态不允许该操作", "The promotion request's status does not allow this",
        "该申请当前状态为“{status_label}”。", "The request's status is \"{status_label}\"."),
    "promotion.no_unit": Message(
        "当前账号未关联推荐单位", "The account acts for no unit",
        "请使用单位账号登录后重试。", "Sign in with the unit's account and try again."),

    # Imported historical gradings
    "grading.import_failed": Message(
        "历史认定名单未通过校验，未导入任何记录", "The grading list is invalid; nothing was imported",
        "请按 errors 中列出的行和列逐项修改后重新上传整个文件。",
        "Correct each row and column listed in errors, then upload the whole file again."),
    "grading.content_type": Message(
        "请以 CSV 文件上传", "Upload a CSV file",
        "请求内容类型应为 text/csv，或以 multipart/form-data 的 file 字段上传。",
        "Send the body as text/csv, or as the file field of multipart/form-data."),
    "grading.not_utf8": Message(
        "文件不是 UTF-8 编码，请另存为“CSV UTF-8”后重新上传",
        "The file is not UTF-8; save it as CSV UTF-8 and upload it again"),
    "grading.empty_file": Message("文件为空", "The file is empty"),
    "grading.no_rows": Message("文件中没有认定记录", "The file contains no gradings"),
    "grading.too_many_rows": Message(
        "每个文件最多 {max} 行，请拆分后分别上传", "At most {max} rows per file; split the file"),
    "grading.unknown_column": Message(
        "表头含有不支持的列，表头应为：姓名,公民身份号码,人才类别,层次,认定日期",
        "Unknown column; the header is 姓名,公民身份号码,人才类别,层次,认定日期"),
    "grading.missing_column": Message(
        "表头缺少该列，表头应为：姓名,公民身份号码,人才类别,层次,认定日期",
        "The header lacks this column; the header is 姓名,公民身份号码,人才类别,层次,认定日期"),
    "grading.repeated_column": Message("表头中该列重复", "The header repeats this column"),
    "grading.value_missing": Message("必填项为空", "Required value missing"),
    "grading.name_too_long": Message("姓名最多 {max} 个字符", "The name has at most {max} characters"),
    "grading.id_number_invalid": Message(
        "公民身份号码无效，应为 18 位且出生日期和校验位正确",
        "Invalid ID number: 18 characters with a valid birth date and check character"),
    "grading.class_invalid": Message(
        "人才类别“{value}”无效，应为 A、B、C、D、E 之一", "Invalid talent class \"{value}\"; use one of A to E"),
    "grading.level_invalid": Message(
        "层次“{value}”无效，应为 1、2、3 之一", "Invalid level \"{value}\"; use 1, 2 or 3"),
    "grading.date_invalid": Message(
        "认定日期“{value}”无效，格式应为 YYYY-MM-DD", "Invalid date \"{value}\"; use YYYY-MM-DD"),
    "grading.date_in_future": Message(
        "认定日期“{value}”晚于今天", "The date \"{value}\" is in the future"),
    "grading.duplicate_row": Message(
        "与第 {first} 行的认定记录重复", "Repeats the grading on line {first}"),
})
