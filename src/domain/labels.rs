//! Chinese labels of the codes the API speaks (`GET /api/v1/meta` lists them), and the
//! sentence that explains a match to a person.

use super::contract::ContractKind;
use super::listing::{Field, TransferMode};
use super::organization::{EnterpriseScale, OrgKind, ServiceCategory};

pub fn field(f: Field) -> &'static str {
    match f {
        Field::NewMaterials => "新材料",
        Field::AdvancedManufacturing => "先进制造",
        Field::ElectronicInformation => "电子信息",
        Field::Biomedicine => "生物医药",
        Field::NewEnergy => "新能源",
        Field::EnergySavingEnvironment => "节能环保",
        Field::ModernAgriculture => "现代农业",
        Field::Aerospace => "航空航天",
        Field::Marine => "海洋",
        Field::ResourcesMining => "资源与矿业",
        Field::ChemicalEngineering => "化学工程",
        Field::Transportation => "交通运输",
        Field::Construction => "建筑",
        Field::TextileLightIndustry => "纺织轻工",
        Field::AiSoftware => "人工智能与软件",
    }
}

pub fn transfer_mode(m: TransferMode) -> &'static str {
    match m {
        TransferMode::Transfer => "转让",
        TransferMode::License => "许可",
        TransferMode::Equity => "作价投资",
        TransferMode::CoDevelopment => "合作开发",
        TransferMode::Service => "技术服务",
    }
}

pub fn service_category(c: ServiceCategory) -> &'static str {
    match c {
        ServiceCategory::InspectionTesting => "检验检测",
        ServiceCategory::RdDesign => "研发设计",
        ServiceCategory::TechnologyConsulting => "技术咨询",
        ServiceCategory::TechnologyTransfer => "技术转移",
        ServiceCategory::PilotProduction => "中试熟化",
        ServiceCategory::IpServices => "知识产权服务",
        ServiceCategory::InstrumentSharing => "大型仪器共享",
    }
}

pub fn enterprise_scale(s: EnterpriseScale) -> &'static str {
    match s {
        EnterpriseScale::Large => "大型企业",
        EnterpriseScale::Medium => "中型企业",
        EnterpriseScale::Small => "小型企业",
        EnterpriseScale::Micro => "微型企业",
    }
}

pub fn org_kind(k: OrgKind) -> &'static str {
    match k {
        OrgKind::Enterprise => "企业",
        OrgKind::University => "高等院校",
        OrgKind::Institute => "科研院所",
        OrgKind::ServiceProvider => "服务机构",
        OrgKind::Government => "政府部门",
    }
}

pub fn contract_kind(k: ContractKind) -> &'static str {
    k.chinese()
}

/// The codes of a match's `reasons`, with their Chinese labels.
pub const REASON_CODES: [(&str, &str); 10] = [
    ("field.same", "同一技术领域"),
    ("field.related", "相关技术领域"),
    ("field.other", "不同技术领域"),
    ("trl_fit.true", "技术成熟度满足需求"),
    ("trl_fit.false", "技术成熟度低于需求"),
    ("budget_fit.true", "报价在预算内"),
    ("budget_fit.false", "报价超出预算"),
    ("region.same", "同一省份"),
    ("region.other", "不同省份"),
    ("matched_terms", "共同的关键技术词"),
];

/// One side of a match, as the sentence needs it.
pub struct Side<'a> {
    pub field: Option<Field>,
    pub region: &'a str,
    /// Demand: the minimum TRL; achievement: its TRL.
    pub trl: Option<i32>,
    /// Demand: the budget; achievement: the asking price (fen).
    pub price_fen: Option<i64>,
}

/// The structured reasons of a match, in codes.
pub struct Reasons<'a> {
    pub matched_terms: &'a [String],
    /// `same` | `related` | `other`.
    pub field: &'a str,
    pub trl_fit: bool,
    pub budget_fit: bool,
    /// `same` | `other`.
    pub region: &'a str,
}

/// The match explained in one Chinese sentence, e.g.
/// `共同关键词：石墨烯、散热；同属新材料领域；技术成熟度 7 级，满足需求的 5 级以上；报价在预算内；同在江苏省。`
pub fn match_sentence(demand: &Side<'_>, achievement: &Side<'_>, reasons: &Reasons<'_>) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !reasons.matched_terms.is_empty() {
        let terms: Vec<&str> = reasons.matched_terms.iter().take(3).map(String::as_str).collect();
        parts.push(format!("共同关键词：{}", terms.join("、")));
    }
    let name = |f: Option<Field>| f.map_or("未注明", field);
    match reasons.field {
        "same" => parts.push(format!("同属{}领域", name(achievement.field))),
        "related" => parts.push(format!("{}与{}领域相关", name(achievement.field), name(demand.field))),
        _ => parts.push(format!("领域不同（成果属{}，需求属{}）", name(achievement.field), name(demand.field))),
    }
    match (achievement.trl, demand.trl) {
        (Some(trl), Some(min)) if reasons.trl_fit => {
            parts.push(format!("技术成熟度 {trl} 级，满足需求的 {min} 级以上"))
        }
        (Some(trl), Some(min)) => parts.push(format!("技术成熟度 {trl} 级，低于需求的 {min} 级")),
        (Some(trl), None) => parts.push(format!("技术成熟度 {trl} 级")),
        _ => {}
    }
    if achievement.price_fen.is_some() && demand.price_fen.is_some() {
        parts.push(if reasons.budget_fit { "报价在预算内" } else { "报价超出预算" }.to_owned());
    }
    if reasons.region == "same" {
        parts.push(format!("同在{}", achievement.region));
    } else {
        parts.push(format!("成果在{}，需求在{}", achievement.region, demand.region));
    }
    format!("{}。", parts.join("；"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_a_label() {
        for f in Field::ALL {
            assert!(!field(*f).is_empty());
        }
        for m in TransferMode::ALL {
            assert!(!transfer_mode(*m).is_empty());
        }
        for c in ServiceCategory::ALL {
            assert!(!service_category(*c).is_empty());
        }
        for s in EnterpriseScale::ALL {
            assert!(!enterprise_scale(*s).is_empty());
        }
        for k in OrgKind::ALL {
            assert!(!org_kind(*k).is_empty());
        }
        for k in ContractKind::ALL {
            assert!(!contract_kind(*k).is_empty());
        }
    }

    #[test]
    fn a_match_reads_as_a_sentence() {
        let demand =
            Side { field: Some(Field::NewMaterials), region: "江苏省", trl: Some(5), price_fen: Some(1_000) };
        let achievement =
            Side { field: Some(Field::NewMaterials), region: "江苏省", trl: Some(7), price_fen: Some(900) };
        let terms = vec!["石墨烯".to_owned(), "散热".to_owned()];
        let reasons = Reasons { matched_terms: &terms, field: "same", trl_fit: true, budget_fit: true, region: "same" };
        assert_eq!(
            match_sentence(&demand, &achievement, &reasons),
            "共同关键词：石墨烯、散热；同属新材料领域；技术成熟度 7 级，满足需求的 5 级以上；报价在预算内；同在江苏省。"
        );
        let far = Side { region: "广东省", trl: Some(3), ..achievement };
        let reasons =
            Reasons { matched_terms: &[], field: "related", trl_fit: false, budget_fit: false, region: "other" };
        let text = match_sentence(&demand, &far, &reasons);
        assert!(
            text.contains("低于需求的 5 级") && text.contains("报价超出预算") && text.contains("成果在广东省"),
            "{text}"
        );
    }
}
