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
    "application.already_exists": Message(
        "您已在该通知下申报过", "You already have an application for this call",
        "每个通知只能申报一次，请在申报历史中继续编辑已有申报。",
        "One application per call is allowed; continue the existing one from your applications list."),
    "application.module_not_found": Message(
        "申报模块不存在", "Unknown module",
        "模块 {module} 不存在。", "There is no module named {module}."),
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
    "application.validation_failed": Message(
        "申报信息未通过数据验证", "The application did not pass validation",
        "请按 errors 中列出的模块和字段逐项修改后重新提交。",
        "Correct each module and field listed in errors, then submit again."),
    "application.binding_in_use": Message(
        "有经该推荐单位提交的申报正在审核中", "An application through this unit is under review",
        "审核结束（业务部门审核通过材料或终止审核）之前不能解除与该推荐单位的绑定。",
        "The binding to this unit cannot end until the review ends (the department approves the material "
        "or the review is terminated)."),
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
        "{where_zh}：人才来源为“{value}”时，必须填写“从何地（单位）引进”",
        "{where_en}: introduced from is required when the talent source is {value}"),
    "application.promotion_field_required": Message(
        "{where_zh}：人才认定服务类型为“晋升认定”时，必须填写“{field_zh}”",
        "{where_en}: {field_en} is required for a promotion grading"),
    "application.contract_end_required": Message(
        "{where_zh}：未签订长期聘用合同（五年以上）时，必须填写“引进或聘用合同(协议)终止时间”",
        "{where_en}: the contract end date is required without a long-term contract"),
    "application.professional_field_required": Message(
        "{where_zh}：所选人员类别需填写专业技术信息，请填写“{field_zh}”",
        "{where_en}: the personnel category needs the professional title; {field_en} is required"),
    "application.vocational_field_required": Message(
        "{where_zh}：所选人员类别需填写职业技能信息，请填写“{field_zh}”",
        "{where_en}: the personnel category needs the vocational skill; {field_en} is required"),
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
    "application.entry_attachments_missing": Message(
        "{where_zh}：请上传证明材料（附件），每条 {min}–{max} 个",
        "{where_en}: upload the supporting files, {min} to {max} per entry"),
    "application.entry_attachments_too_many": Message(
        "{where_zh}：附件最多 {max} 个，当前 {count} 个，请删除多余的附件",
        "{where_en}: at most {max} files, found {count}; delete the extra files"),
    "application.performance_year_outside": Message(
        "{where_zh}：企业人才业绩应为近三年（{first}—{last} 年）的业绩，当前填写 {year} 年",
        "{where_en}: enterprise performance must be from the last three years ({first} to {last}), found {year}"),

    # Saving a module.
    "application.not_in_dictionary": Message(
        "“{input}”不是可选项，请从下拉列表中选择", "\"{input}\" is not one of the options; choose one from the list"),
    "application.entry_id_invalid": Message(
        "经历编号（entry_id）格式无效", "Invalid entry id"),
    "application.entry_unknown": Message(
        "该条经历（entry_id）不存在或已被删除，请刷新页面后重新编辑",
        "No saved entry has this entry_id; reload the module and edit again"),
    "application.entry_duplicate": Message(
        "同一条经历（entry_id）出现了两次，请删除重复的一条", "The same entry_id appears twice; remove one of them"),
    "application.if_match_required": Message(
        "请在 If-Match 请求头中带上模块的当前版本", "Send the module's current version in If-Match",
        "该模块已保存过（当前版本 {current_version}）。为避免覆盖其他页面保存的内容，请带上"
        " If-Match: \"{current_version}\" 重新保存。",
        "The module was saved before (current version {current_version}). So that no other page's save is"
        " overwritten, save again with If-Match: \"{current_version}\"."),
    "application.module_locked": Message(
        "该模块未被退回修改，不能编辑", "This module was not returned for changes",
        "“{module_zh}”未被退回修改，不能编辑。审核退回时勾选需要修改的模块为：{returned_zh}。如需修改“{module_zh}”，"
        "请先联系单位审核人，由其退回时勾选该模块。",
        "{module_en} was not returned for changes and cannot be edited. The reviewer returned only these modules"
        " for changes: {returned_en}. To change {module_en}, ask the reviewer to return the application with that"
        " module ticked."),
    "application.dictionary_not_found": Message(
        "字典不存在", "Dictionary not found",
        "没有名为 {name} 的字典，可用的字典见 GET /dictionaries。",
        "There is no dictionary named {name}; GET /dictionaries lists them."),
})
