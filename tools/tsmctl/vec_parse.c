/* placeholder: replaced by the real checkers */
#include "vec.h"
int
vec_check_parse_cplc(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_parse_card_data(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_parse_card_capabilities(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_parse_card_resources(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_parse_key_info(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_parse_registry(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
int
vec_check_parse_privileges(struct vec *v)
{
	(void)v;
	return VEC_SKIP;
}
