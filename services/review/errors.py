"""Error codes of the review service, in Chinese and English."""

from services.common.errors import Message, register_messages

register_messages({
    "review.task_not_found": Message("审核任务不存在", "Review task not found",
                                     "未找到该审核任务，或您无权办理。",
                                     "The review task does not exist or is not yours to handle."),
    "review.task_not_pending": Message("该审核任务已办理", "Review task already decided",
                                       "该任务已于 {decided_at} 办理，不能重复办理。",
                                       "The task was decided at {decided_at} and cannot be decided again."),
    "review.opinion_required": Message("退回或终止审核时必须填写办件意见",
                                       "An opinion is required to return or terminate"),
    "review.modules_required": Message("退回时请勾选需要修改的模块",
                                       "Choose the modules to change when returning"),
    "review.modules_not_allowed": Message("只有退回时才能勾选需要修改的模块",
                                          "Modules can be chosen only when returning"),
    "review.unknown_module": Message("不支持的模块：{input}，可选：{expected}",
                                     "Unknown module {input}; choose from {expected}"),
    "review.unknown_result": Message("不支持的评审结果：{input}", "Unknown result type {input}"),
    "review.grade_mismatch": Message("评审结果与认定类别、层次不一致",
                                     "The result does not fit the recorded class and level",
                                     "“{label}”{rule_zh}；"
                                     "本申报为 {applied_class} 类第 {applied_level} 层次。",
                                     "“{label}” {rule_en}; the application was for class "
                                     "{applied_class}, level {applied_level}."),
    "review.not_material_approved": Message("材料尚未终审通过，不能录入评审结果",
                                            "Material not yet approved; no result can be recorded",
                                            "该申报尚未通过业务部门材料审核，请在材料审核通过后录入评审结果。",
                                            "The department has not approved the material of this "
                                            "application yet."),
    "review.result_exists": Message("该申报已录入评审结果", "A result is already recorded",
                                    "该申报已于 {recorded_at} 录入评审结果，不能重复录入。",
                                    "A result was recorded at {recorded_at}; it cannot be recorded twice."),
})
