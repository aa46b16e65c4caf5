"""Error codes, validation messages and eligibility texts of the application service."""

from services.common.errors import Message, register_messages

register_messages({
    "application.call_not_found": Message(
        "申报通知不存在", "Call for applications not found",
        "未找到该申报通知，请从正在受理的通知中选择。", "No such call; choose one of the open calls."),
    "application.call_window_invalid": Message(
        "截止时间应晚于开始时间", "closes_at must be later than opens_at"),
    "application.call_state_conflict": Message(
        "申报通知状态不允许该操作", "The call's status does not allow this",
        "该通知当前状态为 {call_status}，不能{action_zh}。",
        "The call is {call_status}, so it cannot be {action_en}."),
    "application.not_found": Message(
        "申报不存在", "Application not found",
        "未找到该申报，请在申报历史中查看您的申报。", "No such application; see your applications list."),
    "application.not_eligible": Message(
        "不满足申报条件", "Not eligible to apply",
        "请按 conditions 中未通过的条件逐项处理后再申报。",
        "Resolve each condition that did not pass (see conditions) and apply again."),
    "application.already_exists": Message(
        "您已在该通知下申报过", "You already have an application for this call",
        "每个通知只能申报一次，请在申报历史中继续编辑已有申报。",
        "One application per call is allowed; continue the existing one from your applications list."),
    "application.module_not_found": Message(
        "申报模块不存在", "Unknown module",
        "模块 {module} 不存在。", "There is no module named {module}."),
    "application.module_not_available": Message(
        "该申报模块暂未开放", "This module is not available yet",
        "模块 {module} 暂未开放填写。", "The module {module} cannot be filled in yet."),
    "application.module_version_conflict": Message(
        "该模块已被修改", "The module was changed meanwhile",
        "该模块已在其他页面保存（当前版本 {current_version}），请刷新后重新修改。",
        "The module was saved elsewhere (current version {current_version}); reload it and edit again."),
    "application.if_match_invalid": Message(
        "If-Match 请求头格式无效", "Invalid If-Match header",
        "If-Match 应为带引号的版本号，例如 \"3\"。", "Send If-Match as a quoted version such as \"3\"."),
    "application.not_editable": Message(
        "当前状态下申报内容不能修改", "The application cannot be changed in its current status",
        "申报状态为“{status_label}”，只有草稿或被退回的申报可以修改。",
        "The application is \"{status_label}\"; only drafts and returned applications can be changed."),
    "application.call_closed": Message(
        "申报通知不在受理时间内", "The call is not open",
        "通知《{title}》的受理时间为 {opens_at} 至 {closes_at}，当前不能提交。",
        "The call \"{title}\" accepts applications from {opens_at} to {closes_at};"
        " it cannot be submitted now."),
    "application.validation_failed": Message(
        "申报信息未通过数据验证", "The application did not pass validation",
        "请按 errors 中列出的模块和字段逐项修改后重新提交。",
        "Correct each module and field listed in errors, then submit again."),
    "application.pledge_required": Message(
        "请勾选“本人承诺，申报所提供的材料真实、准确，如有违诺情况，本人愿承担所有责任”",
        "Tick the pledge that the submitted material is true and accurate"),

    # 数据验证 messages: each names the module (and entry) and the field.
    "application.field_required": Message(
        "{where_zh}：请填写“{field_zh}”", "{where_en}: {field_en} is required"),
    "application.unit_nature_missing": Message(
        "{where_zh}：“单位性质”为空，请联系单位负责人才工作的同志在单位网厅＞大人才一体化系统＞工作台中填写",
        "{where_en}: the unit type is empty;"
        " ask your unit's talent officer to fill it in on the unit portal"),
    "application.introduced_from_required": Message(
        "{where_zh}：人才来源为“{talent_source}”时，必须填写“从何地（单位）引进”",
        "{where_en}: introduced from is required when the talent source is {talent_source}"),
    "application.promotion_field_required": Message(
        "{where_zh}：人才认定服务类型为“晋升认定”时，必须填写“{field_zh}”",
        "{where_en}: {field_en} is required for a promotion grading"),
    "application.contract_end_required": Message(
        "{where_zh}：未签订长期聘用合同（五年以上）时，必须填写“引进或聘用合同(协议)终止时间”",
        "{where_en}: the contract end date is required without a long-term contract"),
    "application.date_in_future": Message(
        "{where_zh}：“{field_zh}”不能晚于今天", "{where_en}: {field_en} cannot be in the future"),
    "application.end_not_after_start": Message(
        "{where_zh}：结束日期应晚于开始日期", "{where_en}: the end date must be after the start date"),
    "application.class_not_offered": Message(
        "{where_zh}：本次通知不受理 {talent_class} 类人才申报，可申报类别：{classes}",
        "{where_en}: this call does not accept class {talent_class}; classes accepted: {classes}"),
    "application.entries_missing": Message(
        "{where_zh}为必填项，请至少填写 1 条", "{where_en} is required; add at least one entry"),
    "application.too_many_entries": Message(
        "{where_zh}最多填写 {max} 条，当前 {count} 条", "{where_en}: at most {max} entries, found {count}"),
    "application.text_too_long": Message(
        "{where_zh}：填写内容不超过 {max} 字，当前 {length} 字",
        "{where_en}: at most {max} characters, found {length}"),
    "application.attachment_missing": Message(
        "{where_zh}：请上传{kind_zh}", "{where_en}: upload the {kind_en}"),

    # Eligibility (办理条件): the title is the reason, the detail is the next step.
    "eligibility.call_open.passed": Message(
        "通知《{title}》正在受理（北京时间 {opens_at} 至 {closes_at}）",
        "The call \"{title}\" is open ({opens_at} to {closes_at}, Beijing time)"),
    "eligibility.call_open": Message(
        "通知《{title}》不在申报时间范围内（北京时间 {opens_at} 至 {closes_at}）",
        "The call \"{title}\" is not open ({opens_at} to {closes_at}, Beijing time)",
        "请在申报时间范围内申报，或选择其他正在受理的通知。",
        "Apply while the call is open, or choose another open call."),
    "eligibility.unit_bound.passed": Message(
        "已绑定推荐单位：{unit_name}", "Bound to the recommending unit {unit_name}"),
    "eligibility.unit_bound": Message(
        "尚未绑定推荐单位", "Not bound to a recommending unit",
        "请在“个人与单位绑定关系”中输入推荐单位的统一社会信用代码申请绑定，并等待单位审核通过。",
        "Request a binding with your unit's unified social credit code and wait for the unit to approve it."),
    "eligibility.unit_profile_complete.passed": Message(
        "推荐单位已完善人才分类定级报送信息", "The unit has completed its talent grading report information"),
    "eligibility.unit_profile_complete": Message(
        "推荐单位尚未完善“人才分类定级报送信息”",
        "The unit has not completed its talent grading report information",
        "请联系单位负责人才工作的同志，在单位网厅＞大人才一体化系统＞工作台中完善报送信息。",
        "Ask your unit's talent officer to complete the report information on the unit portal."),
    "eligibility.unit_profile_complete.unbound": Message(
        "尚未绑定推荐单位，无法确认单位报送信息",
        "No recommending unit is bound, so its report information is unknown",
        "请先绑定推荐单位。", "Bind a recommending unit first."),
    "eligibility.not_recently_graded.passed": Message(
        "近三年内无人才分类定级认定记录", "Not graded in the last three years"),
    "eligibility.not_recently_graded": Message(
        "您已于 {graded_on} 通过人才分类定级认定，三年内不能再次申报",
        "You were graded on {graded_on}; a new application is possible three years later",
        "如需晋级，请先提交晋级申报申请，审核通过后再申报。",
        "To apply for a higher class, submit a promotion request first and apply once it is approved."),
})
