"""Error codes of the files service, in Chinese and English."""

from services.common.errors import Message, register_messages

register_messages({
    "files.file_not_found": Message("附件不存在", "File not found",
                                    "未找到该附件，或您无权查看。",
                                    "The file does not exist or you may not see it."),
    "files.application_not_found": Message("申报不存在", "Application not found",
                                           "未找到编号为 {application_id} 的申报，或您无权操作。",
                                           "Application {application_id} does not exist or is not yours."),
    "files.slot_locked": Message("当前申报不可修改附件", "The application's attachments cannot be changed",
                                 "申报已提交或正在审核，附件不能上传或删除；被退回后可修改。",
                                 "The application is submitted or under review, so files cannot be "
                                 "uploaded or deleted until it is returned."),
    "files.too_many": Message("附件数量已达上限", "Too many files",
                              "“{label}”最多上传 {max_count} 个附件，已上传 {count} 个，"
                              "请先删除不需要的附件。",
                              "At most {max_count} files of kind {kind} are allowed and {count} are "
                              "uploaded; delete one first."),
    "files.too_large": Message("附件超过大小上限", "File too large",
                               "“{label}”的附件不能超过 {max_mib} MB（{max_bytes} 字节）。",
                               "Files of kind {kind} may be at most {max_mib} MiB ({max_bytes} bytes)."),
    "files.unsupported_format": Message("附件格式不符合要求", "Unsupported file format",
                                        "“{label}”只接受以下格式：{allowed}。"
                                        "文件格式按文件内容识别，修改扩展名无效。",
                                        "Files of kind {kind} must be one of: {allowed}. The format is "
                                        "detected from the content, not from the file name."),
    "files.empty_file": Message("文件内容为空，请重新选择文件", "The file is empty; choose another file"),
    "files.file_missing": Message("请选择要上传的文件（表单字段 file）",
                                  "Choose a file to upload (form field file)"),
    "files.field_before_file": Message("必填项，且须在 file 部分之前发送",
                                       "Required, and must be sent before the file part"),
    "files.entry_required": Message("该类附件须指明所属经历（entry_id）",
                                    "This kind of file needs the entry it belongs to (entry_id)"),
    "files.entry_not_allowed": Message("该类附件不属于某条经历，请不要发送 entry_id",
                                       "This kind of file belongs to no entry; do not send entry_id"),
    "files.multipart_required": Message("请以 multipart/form-data 格式上传",
                                        "Send the upload as multipart/form-data",
                                        "上传请求须为 multipart/form-data，依次包含 kind、application_id、"
                                        "entry_id（如需）和 file。",
                                        "The upload must be multipart/form-data with kind, application_id, "
                                        "entry_id (when needed) and then file."),
    "files.multipart_invalid": Message("上传内容格式错误", "Malformed multipart body",
                                       "上传请求的 multipart 内容不完整或格式错误，请重新上传。",
                                       "The multipart body is incomplete or malformed; "
                                       "upload the file again."),
})
